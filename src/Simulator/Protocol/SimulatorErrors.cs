using System.Text.Json.Nodes;

namespace AgentWorker.Simulator.Protocol;

/// <summary>The documented error shapes: the REST body <c>{"error":{...}}</c> and the WebSocket envelope.</summary>
public static class SimulatorErrors
{
    public static JsonObject Body(string type, string code, string message, string? param = null) => new()
    {
        ["error"] = new JsonObject { ["type"] = type, ["code"] = code, ["message"] = message, ["param"] = param },
    };

    public static JsonObject WebSocketEvent(int status, string type, string code, string message, string? param = null)
    {
        var evt = Body(type, code, message, param);
        evt["type"] = "error";
        evt["status"] = status;
        return evt;
    }

    public static JsonObject PreviousResponseNotFound(string id) => WebSocketEvent(400, "invalid_request_error",
        "previous_response_not_found", $"Previous response with id '{id}' not found.", "previous_response_id");
}
