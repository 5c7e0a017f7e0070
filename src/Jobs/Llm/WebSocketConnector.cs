using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Llm;

/// <summary>Connects <see cref="ResponsesSocket"/>s to <see cref="LlmOptions.BaseUrl"/>.</summary>
internal sealed class WebSocketConnector(IOptions<LlmOptions> options, TimeProvider time) : ISocketConnector
{
    public async Task<IModelSocket> ConnectAsync(CancellationToken cancellationToken) =>
        await ResponsesSocket.ConnectAsync(options.Value, time, cancellationToken);
}
