using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Llm;

/// <summary>Conversation items as M.E.AI chat messages and back (<see cref="ChatClientConversation"/>).</summary>
internal static class ChatMessages
{
    /// <summary>
    /// Appends <paramref name="items"/> from <paramref name="from"/> on: the model's consecutive items (text, calls,
    /// reasoning) as one assistant message, consecutive call outputs as one tool message, as chat APIs expect. A reasoning
    /// item without its protected content cannot be replayed and is left out.
    /// </summary>
    public static void Append(List<ChatMessage> messages, IReadOnlyList<ConversationItem> items, int from)
    {
        ChatMessage? current = null;
        for (var i = from; i < items.Count; i++)
        {
            var item = items[i];
            switch (item.Kind)
            {
                case ConversationItemKind.UserMessage:
                    current = null;
                    messages.Add(new ChatMessage(ChatRole.User, string.Join("\n", item.Texts())));
                    break;
                case ConversationItemKind.AssistantMessage:
                    Into(ChatRole.Assistant).Contents.Add(new TextContent(string.Join("\n", item.Texts())));
                    break;
                case ConversationItemKind.FunctionCall:
                    Into(ChatRole.Assistant).Contents.Add(FunctionCallContent.CreateFromParsedArguments(
                        item.Arguments ?? "{}", item.CallId ?? "", item.Name ?? "",
                        json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json, AIJsonUtilities.DefaultOptions)));
                    break;
                case ConversationItemKind.Reasoning when item.Replayable:
                    Into(ChatRole.Assistant).Contents.Add(
                        new TextReasoningContent(string.Join("\n", item.SummaryTexts())) { ProtectedData = item.EncryptedContent });
                    break;
                case ConversationItemKind.FunctionCallOutput:
                    Into(ChatRole.Tool).Contents.Add(new FunctionResultContent(item.CallId ?? "", item.Output));
                    break;
            }
        }

        ChatMessage Into(ChatRole role)
        {
            if (current is null || current.Role != role)
            {
                current = new ChatMessage(role, []);
                messages.Add(current);
            }
            return current;
        }
    }

    /// <summary>A chat response's output as conversation items (the stored form: Responses items).</summary>
    public static List<ConversationItem> Output(ChatResponse response)
    {
        var output = new List<ConversationItem>();
        foreach (var message in response.Messages)
        {
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } text:
                        output.Add(ConversationItem.AssistantMessage(message.MessageId, text.Text));
                        break;
                    case FunctionCallContent call:
                        output.Add(ConversationItem.FunctionCall(call.CallId, call.Name,
                            call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions)));
                        break;
                    case TextReasoningContent reasoning:
                        output.Add(ConversationItem.Reasoning(null, reasoning.Text.Length > 0 ? reasoning.Text : null, reasoning.ProtectedData));
                        break;
                }
            }
        }
        return output;
    }
}
