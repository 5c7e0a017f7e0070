using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Testing;

/// <summary>Faults injected into a running simulator (<c>POST /sim/faults</c>), the one way the tests and the bench do it.</summary>
public static class SimulatorFaults
{
    private static readonly HttpClient s_http = new();

    /// <summary>
    /// Injects one fault, e.g. <c>new { kind = "slow", skip = 1, delay_ms = 10_000 }</c>: the second response of the
    /// simulator waits 10 s before its first output.
    /// </summary>
    public static async Task InjectAsync(Uri simulatorBaseUrl, object fault, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(simulatorBaseUrl);
        using var response = await s_http.PostAsJsonAsync(new Uri(simulatorBaseUrl, "/sim/faults"), fault, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The faults still pending (<c>GET /sim/faults</c>), each with the responses it has yet to hit as <c>count</c>.</summary>
    public static async Task<JsonArray> PendingAsync(Uri simulatorBaseUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(simulatorBaseUrl);
        return await s_http.GetFromJsonAsync<JsonArray>(new Uri(simulatorBaseUrl, "/sim/faults"), cancellationToken) ?? [];
    }

    /// <summary>Clears every pending fault.</summary>
    public static async Task ClearAsync(Uri simulatorBaseUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(simulatorBaseUrl);
        using var response = await s_http.DeleteAsync(new Uri(simulatorBaseUrl, "/sim/faults"), cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
