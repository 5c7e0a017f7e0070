using AgentWorker.Dashboard;

await DashboardApp.Create(args).RunAsync();
