using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.Dashboard;

/// <summary>The agent pages of the Hangfire dashboard in a real browser.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class AgentPagesBrowserTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    [Fact]
    public async Task TaskList_Opens_AndLinksToATask()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();

        await page.GotoAsync(new Uri(env.DashboardUrl, "/hangfire/agent/tasks").ToString());
        await page.ClickAsync($"a[href$='/agent/tasks/{id}']");

        Assert.Contains($"Agent task #{id}", await page.TitleAsync(), StringComparison.Ordinal);
    }
}
