using System.Diagnostics;
using System.Text;

namespace AgentWorker.Testing;

/// <summary>A real worker process (<c>dotnet Worker.dll run</c>), so a test can kill it with SIGKILL mid-run.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The process id, as the worker's claims name it (<c>lease_owner</c> is <c>host:pid:random:task:attempt</c>).</summary>
    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts a worker on the App database <paramref name="app"/>, its tools reading <paramref name="target"/> (schema
    /// <c>shop</c>) as a read-only login, the simulator as its model; waits until it serves.
    /// </summary>
    public static Task<WorkerProcess> StartAsync(string app, string target, SimulatorHost simulator, params string[] extra) =>
        StartAsync(app, target, simulator, new Dictionary<string, string>(), extra);

    /// <summary>As above, with environment variables for the process (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> ...).</summary>
    public static Task<WorkerProcess> StartAsync(string app, string target, SimulatorHost simulator,
        IReadOnlyDictionary<string, string> environment, params string[] extra) =>
        StartHostAsync("src/Worker", "Worker", "run", app, target, simulator, environment, extra);

    /// <summary>
    /// As <see cref="StartAsync(string, string, SimulatorHost, string[])"/>, for another host of the worker built in
    /// this repository (<paramref name="project"/> such as <c>tests/ToolHost</c>, its assembly <paramref name="assembly"/>,
    /// its verb if it takes one), configured the same way.
    /// </summary>
    public static async Task<WorkerProcess> StartHostAsync(string project, string assembly, string? verb, string app, string target,
        SimulatorHost simulator, IReadOnlyDictionary<string, string> environment, params string[] extra)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(environment);
        // The host's own build output (its deps and runtimeconfig), in the configuration the caller was built in.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0
        var worker = Repository.File($"{project}/bin/{configuration}/net10.0/{assembly}.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(worker)!,
        };
        foreach (var arg in (string[])[
            worker,
            .. (verb is null ? (string[])[] : [verb]),
            $"--ConnectionStrings:App={app}",
            $"--ConnectionStrings:Target={target}",
            "--Tools:Schemas=shop",
            $"--Llm:BaseUrl={simulator.BaseUrl}",
            $"--Llm:ApiKey={SimulatorHost.ApiKey}",
            "--Llm:Model=sim-1",
            .. extra])
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var running = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => running.Append(e.Data);
        process.ErrorDataReceived += (_, e) => running.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var ready = await Task.WhenAny(running._ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (ready != running._ready.Task)
        {
            running.Kill();
            throw new InvalidOperationException("The worker process did not become ready:\n" + running.Output);
        }
        return running;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        if (line.Contains("Tools query as read-only login", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>The process's peak resident memory so far (VmHWM), in MB.</summary>
    public double PeakResidentMb()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>SIGTERM, as a container stop sends: the host shuts down gracefully; waits until the process exits.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var limit = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(limit.Token);
    }

    /// <summary>SIGKILL: no shutdown, no lease released, sockets dropped.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
