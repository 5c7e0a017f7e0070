using AgentWorker.Simulator;

await SimulatorApp.Create(args).RunAsync();
