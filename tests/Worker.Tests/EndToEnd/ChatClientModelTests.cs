#pragma warning disable OPENAI001 // The Responses client of the official SDK is marked experimental.
using System.ClientModel;
using AgentWorker.Jobs.Llm;
using AgentWorker.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Responses;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// A worker whose model <c>sim-chat</c> runs on M.E.AI's OpenAI <see cref="IChatClient"/> (the official SDK's Responses
/// client, over HTTP, not streamed) against the simulator; <c>sim-1</c> stays on the pooled WebSocket.
/// </summary>
public sealed class ChatClientEnvironment : AgentEnvironment
{
    public const string Model = "sim-chat";

    protected override void ConfigureWorker(IServiceCollection services) => services.AddChatClientModel(Model, _ =>
        new ResponsesClient(new ApiKeyCredential(SimulatorHost.ApiKey), new ResponsesClientOptions { Endpoint = Simulator.BaseUrl })
            .AsIChatClient(Model));
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class ChatClientModelTests(ChatClientEnvironment env) : IClassFixture<ChatClientEnvironment>
{
    private sealed record Step(int Seq, string Kind, string? Transport, bool? Chained, string? ResponseId, int? InputTokens,
        int? OutputTokens, string? ToolName, string? Error);

    [Fact]
    public async Task Task_OnAModelWithAChatClient_RunsItsToolCallsAndSucceeds_StepsAndUsageStored()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt, model => @model)",
            new { prompt = "How many orders are there?", model = ChatClientEnvironment.Model });

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        await using var connection = env.Database.Open();
        var steps = (await connection.QueryAsync<Step>("""
            select seq, kind, transport, chained, response_id as ResponseId, input_tokens as InputTokens,
                   output_tokens as OutputTokens, tool_name as ToolName, error
              from agent.steps where task_id = @id order by seq
            """, new { id })).ToList();
        var turns = steps.Where(s => s.Kind == "model").ToList();
        var calls = steps.Where(s => s.Kind == "tool").ToList();
        // The simulator's model lists the tables, describes one, queries it, then answers.
        Assert.Equal(["list_tables", "describe_table", "query"], calls.Select(c => c.ToolName));
        Assert.All(calls, c => Assert.Null(c.Error));
        Assert.Equal(4, turns.Count);
        Assert.All(turns, t =>
        {
            Assert.Null(t.Transport);              // neither the pooled socket nor the worker's own HTTP client
            Assert.False(t.Chained);               // the whole conversation each turn
            Assert.False(string.IsNullOrEmpty(t.ResponseId));
            Assert.True(t.InputTokens > 0);
            Assert.True(t.OutputTokens > 0);
        });
        // Every turn resent all that came before: the input grows turn by turn.
        Assert.True(turns.Zip(turns.Skip(1)).All(p => p.Second.InputTokens > p.First.InputTokens));
        var task = await connection.QuerySingleAsync<(string? ResultText, long InputTokens, long OutputTokens)>(
            "select result_text, input_tokens::bigint, output_tokens::bigint from agent.tasks where id = @id", new { id });
        Assert.False(string.IsNullOrWhiteSpace(task.ResultText));
        Assert.Equal(turns.Sum(t => (long)t.InputTokens!), task.InputTokens);
        Assert.Equal(turns.Sum(t => (long)t.OutputTokens!), task.OutputTokens);
    }

    [Fact]
    public async Task Task_OnTheDefaultModel_StillGoesOverThePooledWebSocket()
    {
        var id = await env.RunAsync("How many customers are there?");

        var transports = (await env.ModelStepsAsync(id)).Select(s => s.Transport).Distinct();
        Assert.Equal(["ws"], transports);
    }
}
