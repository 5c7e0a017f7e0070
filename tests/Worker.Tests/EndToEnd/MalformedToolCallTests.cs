using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// A model's malformed tool call is the model's mistake: it goes back to the model as a tool error naming the problem,
/// is stored as a failed tool step, and the task goes on. Real runs: the simulator sends each call exactly as written.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class MalformedToolCallTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    public static TheoryData<string, string, string, string> Calls => new()
    {
        { "invalid JSON", "query", """{"sql": "select 1" """, "are not valid JSON" },
        { "invalid escape", "query", """{"sql": "select \q"}""", "are not valid JSON" },
        { "lone surrogate", "query", """{"sql": "select '\udc00'"}""", "not valid Unicode" },
        { "lone surrogate in a name", "query", """{"\ud800": "x"}""", "not valid Unicode" },
        { "wrong type", "query", """{"sql": 5}""", "property \"sql\" must be a string, got a number" },
        { "missing property", "query", "{}", "missing required property \"sql\"" },
        { "extra property", "query", """{"sql": "select 1", "limit": 5}""", "unknown property \"limit\"" },
        { "not an object", "query", "[1, 2]", "expected a JSON object" },
        { "unknown tool", "drop_everything", "{}", "Unknown tool \"drop_everything\"" },
        { "over the size cap", "query", "{\"sql\": \"select '" + new string('x', 70_000) + "'\"}", "the limit is 64000" },
        { "over the tool's own length limit", "describe_table", "{\"table\": \"" + new string('t', 300) + "\"}", "the limit is 200" },
        { "NUL in a string", "query", """{"sql": "select '\u0000'"}""", "property \"sql\" holds a NUL character" },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task MalformedCall_GoesBackToTheModelAsAToolError_AndTheTaskGoesOn(string what, string tool, string arguments, string expected)
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)",
            new { prompt = $"[raw_call:{tool}]{arguments}[/raw_call]" });

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        await using var connection = env.Database.Open();
        var step = await connection.QuerySingleAsync<(string ToolName, string? Error, string Items)>(
            "select tool_name, error, items::text from agent.steps where task_id = @id and kind = 'tool'", new { id });
        Assert.Equal(tool, step.ToolName);
        Assert.Contains(expected, step.Error, StringComparison.Ordinal);
        Assert.Contains("ERROR", step.Items, StringComparison.Ordinal); // the output the model got says so
        var result = await env.Database.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id });
        Assert.StartsWith("The tool said: ERROR", result, StringComparison.Ordinal);
        Assert.True(what.Length > 0);
    }

    /// <summary>
    /// Text that is not valid in the event's own JSON (<c>wire_call</c>: the escapes are the event's, not the arguments'
    /// inner JSON): half a surrogate pair, a NUL. Each is refused as a tool error, the step stored, the task goes on.
    /// </summary>
    public static TheoryData<string, string, string, string> WireCalls => new()
    {
        { "high surrogate alone in the arguments", "query", """{"sql": "select '\ud800'"}""", "not valid Unicode" },
        { "low surrogate alone in the arguments", "query", """{"sql": "select '\udc00'"}""", "not valid Unicode" },
        { "surrogates in the wrong order", "query", """{"sql": "select '\udc00\ud800'"}""", "not valid Unicode" },
        { "surrogate alone in a property name", "query", """{"s\ud800ql": "select 1"}""", "not valid Unicode" },
        { "surrogate alone outside the arguments' strings", "query", """{"sql": "select 1"}\udbff""", "not valid JSON" },
        { "surrogate alone in the name", """que\udfffry""", "{}", "is not valid text" },
        { "NUL in the arguments", "query", """{"sql": "select '\u0000'"}""", "not valid JSON" },
        { "NUL in the name", """query\u0000""", "{}", "Unknown tool" },
    };

    [Theory]
    [MemberData(nameof(WireCalls))]
    public async Task CallWhoseEventTextIsNotValid_GoesBackToTheModelAsAToolError_AndTheTaskGoesOn(
        string what, string name, string arguments, string expected)
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)",
            new { prompt = $"[wire_call:{name}]{arguments}[/wire_call]" });

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        await using var connection = env.Database.Open();
        var step = await connection.QuerySingleAsync<(string? Error, string Items, string? Arguments)>(
            "select error, items::text, arguments from agent.steps where task_id = @id and kind = 'tool'", new { id });
        Assert.Contains(expected, step.Error, StringComparison.Ordinal);
        Assert.Contains("ERROR", step.Items, StringComparison.Ordinal);
        Assert.NotNull(step.Arguments);
        // The model's turn is stored too, its text as PostgreSQL can hold it.
        Assert.Equal(2, await env.Database.ScalarAsync<long>("select count(*) from agent.steps where task_id = @id and kind = 'model'", new { id }));
        var result = await env.Database.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id });
        Assert.StartsWith("The tool said: ERROR", result, StringComparison.Ordinal);
        Assert.True(what.Length > 0);
    }

    /// <summary>Pads an answer so that its 300th character (where the mirror cuts it for Hangfire) is a pair's first half.</summary>
    private const string Pad =
        "........................................................................................................................"
        + "...............................................................................................................................";

    [Theory]
    [InlineData("""half a pair \ud800 alone""", """half a pair \ud800 alone""")]
    [InlineData("""a pair where Hangfire's excerpt of the answer ends: """ + Pad + """\ud83d\ude00 and on""", "a pair where Hangfire's excerpt of the answer ends: " + Pad + "\ud83d\ude00 and on")]
    [InlineData("""a low half \udc00 alone""", """a low half \udc00 alone""")]
    [InlineData("""a pair \ud83d\ude00 whole""", "a pair \ud83d\ude00 whole")]
    [InlineData("""a NUL \u0000 here""", "a NUL \ufffd here")]
    public async Task AnswerWhoseEventTextIsNotValid_IsStoredAsTheResult(string sent, string stored)
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)",
            new { prompt = $"[wire_answer]{sent}[/wire_answer]" });

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        Assert.Equal(stored, await env.Database.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id }));
        Assert.Contains(stored.Replace("\\", "\\\\", StringComparison.Ordinal), await env.Database.ScalarAsync<string>(
            "select items::text from agent.steps where task_id = @id and kind = 'model'", new { id }), StringComparison.Ordinal);
        // Hangfire's mirror stores the answer too (jsonb): its job still reaches Succeeded.
        await env.Database.WaitUntilAsync("""
            select j.statename = 'Succeeded' from agent.tasks t join hangfire.job j on j.id = t.hangfire_job_id::bigint where t.id = @id
            """, new { id }, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task MalformedCalls_InARow_CountTowardTheConsecutiveToolErrorLimit()
    {
        // The first two calls fail; with Agent:MaxConsecutiveToolErrors = 3 (default) a third would end the task.
        var id = await env.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'Run `select 1 as one` and `select * from nowhere` and `select * from nowhere_either` and `select * from nor_here`')");

        Assert.Equal("failed", await env.WaitForTaskAsync(id));

        Assert.Equal("tool_errors", await env.Database.ScalarAsync<string>("select error_code from agent.tasks where id = @id", new { id }));
    }
}
