namespace AgentWorker.Jobs.Llm;

/// <summary>Opens a model socket (handshake included). The pool's only way to create one; faked in pool tests.</summary>
internal interface ISocketConnector
{
    Task<IModelSocket> ConnectAsync(CancellationToken cancellationToken);
}
