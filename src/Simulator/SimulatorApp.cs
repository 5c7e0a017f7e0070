using AgentWorker.Simulator.Faults;
using AgentWorker.Simulator.Protocol;
using Microsoft.Extensions.Options;

namespace AgentWorker.Simulator;

/// <summary>
/// The simulated Responses API: <c>GET /v1/responses</c> (WebSocket mode) and <c>POST /v1/responses</c> (JSON or SSE),
/// both behind Bearer auth. Listens on <c>--urls</c> (default http://127.0.0.1:5090).
/// </summary>
public static class SimulatorApp
{
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5090");
        }
        builder.Services.AddOptions<SimulatorOptions>().BindConfiguration(SimulatorOptions.SectionName);
        builder.Services.AddSingleton<SimulatorStatistics>();
        builder.Services.AddSingleton(sp => StartupFaults(sp.GetRequiredService<IOptions<SimulatorOptions>>().Value));
        builder.Services.AddSingleton(sp => new HttpResponses(
            sp.GetRequiredService<IOptions<SimulatorOptions>>().Value, sp.GetRequiredService<SimulatorStatistics>(),
            sp.GetRequiredService<FaultInjector>()));
        builder.Services.AddSingleton(TimeProvider.System);

        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.MapGet("/healthz", () => "ok");
        app.MapGet("/sim/stats", (SimulatorStatistics s) => Results.Json(new
        {
            connections = s.Connections,
            responses = s.Responses,
            chained = s.Chained,
            peak_in_flight = s.PeakInFlight,
        }));
        app.MapFaultControl();
        app.MapGet("/v1/responses", UpgradeAsync);
        app.MapPost("/v1/responses", async (HttpContext context, HttpResponses responses, IOptions<SimulatorOptions> options) =>
        {
            if (!Authorized(context, options.Value))
            {
                await HttpResponses.WriteErrorAsync(context, 401, InvalidKey());
                return;
            }
            await responses.HandleAsync(context);
        });
        return app;
    }

    /// <summary>Faults from <c>--Simulator:Faults="drop:after_events=3;rate_limit:retry_after_ms=200,count=5"</c>.</summary>
    private static FaultInjector StartupFaults(SimulatorOptions options)
    {
        var faults = new FaultInjector();
        foreach (var spec in (options.Faults ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            faults.Add(FaultSpec.Parse(spec));
        }
        return faults;
    }

    private static async Task UpgradeAsync(
        HttpContext context, IOptions<SimulatorOptions> options, SimulatorStatistics statistics, FaultInjector faults, TimeProvider time)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await HttpResponses.WriteErrorAsync(context, 400, SimulatorErrors.Body("invalid_request_error", "websocket_required",
                "GET /v1/responses is the WebSocket endpoint; use POST for HTTP."));
            return;
        }
        // Refused before the upgrade, as a normal HTTP error, like the real server.
        if (!Authorized(context, options.Value))
        {
            await HttpResponses.WriteErrorAsync(context, 401, InvalidKey());
            return;
        }
        var fault = faults.TakeHandshakeFault();
        if (fault?.Kind == "handshake_reject")
        {
            var status = fault.Status > 0 ? fault.Status : 503;
            if (status == 429)
            {
                context.Response.Headers.RetryAfter = "1";
            }
            await HttpResponses.WriteErrorAsync(context, status, SimulatorErrors.Body(
                status == 429 ? "requests" : "server_error", status == 429 ? "rate_limit_exceeded" : "upgrade_refused",
                $"Simulated handshake refusal ({status})."));
            return;
        }
        var delay = options.Value.HandshakeDelayMs + (fault?.Kind == "handshake_delay" ? fault.DelayMs : 0);
        if (delay > 0)
        {
            await Task.Delay(delay, context.RequestAborted);
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        statistics.ConnectionOpened();
        faults.Register(socket);
        var session = new WebSocketSession(socket, options.Value, statistics, faults, time);
        try
        {
            await session.RunAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away, or a fault dropped the connection; nothing to answer.
        }
        finally
        {
            faults.Unregister(socket);
        }
    }

    private static bool Authorized(HttpContext context, SimulatorOptions options)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal)
            && string.Equals(header["Bearer ".Length..].Trim(), options.ApiKey, StringComparison.Ordinal);
    }

    private static System.Text.Json.Nodes.JsonObject InvalidKey() => SimulatorErrors.Body("invalid_request_error", "invalid_api_key",
        "Incorrect API key provided. The simulator's key is set with --Simulator:ApiKey (default sim-key).");

}
