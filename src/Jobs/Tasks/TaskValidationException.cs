namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// An enqueue was refused for bad input; the message names the argument (and <see cref="Field"/> does, where one field
/// is at fault). Nothing was stored.
/// </summary>
public sealed class TaskValidationException(string message, Exception? inner = null, string? field = null) : Exception(message, inner)
{
    /// <summary>The field at fault in the API's words (<c>prompt</c>, <c>max_steps</c> ...), when one is.</summary>
    public string? Field { get; } = field;
}
