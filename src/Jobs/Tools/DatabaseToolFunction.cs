using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// A database tool (<see cref="IAgentTool"/>) as an <see cref="AIFunction"/>, so that it is registered, checked, run and
/// traced like any other tool. It returns its <see cref="ToolResult"/> as it is (rows, truncation).
/// </summary>
internal sealed class DatabaseToolFunction(IAgentTool tool) : AIFunction
{
    private readonly JsonElement _schema = JsonSerializer.SerializeToElement(tool.Parameters);

    public override string Name => tool.Name;

    public override string Description => tool.Description;

    public override JsonElement JsonSchema => _schema;

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        // The registry has checked the arguments against the schema; they come as the JsonElements it parsed.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in arguments)
            {
                writer.WritePropertyName(name);
                if (value is JsonElement element)
                {
                    element.WriteTo(writer);
                }
                else
                {
                    JsonSerializer.Serialize(writer, value, AIJsonUtilities.DefaultOptions);
                }
            }
            writer.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return await tool.InvokeAsync(document.RootElement, cancellationToken);
    }
}
