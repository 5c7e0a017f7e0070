using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.Samples;

/// <summary>
/// The packages as a user gets them: packs <c>AgentWorker</c> and <c>AgentWorker.Dashboard</c> into the folder feed of a
/// copy of <c>samples/EmbeddedHost</c> in a temporary directory, restores and builds it from that feed (and nuget.org for
/// the rest, through the sample's own <c>nuget.config</c>), then runs it as a process against PostgreSQL and the simulator:
/// a task enqueued through its REST API succeeds, and a tools login that could write makes it refuse to start.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class EmbeddedHostTests(PostgresServer server, EmbeddedHostTests.BuiltSample sample)
    : IAsyncLifetime, IClassFixture<EmbeddedHostTests.BuiltSample>
{
    private TestDatabase _db = null!; // Set in InitializeAsync.
    private SimulatorHost _sim = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _sim = await SimulatorHost.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _sim.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task TaskEnqueuedThroughItsApi_Succeeds()
    {
        using var host = SampleProcess.Start(sample.App, Settings(_db.ReaderConnectionString));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        await host.WaitUntilReadyAsync(http, Ct);

        using var enqueued = await http.PostAsJsonAsync("/api/tasks", new { prompt = "How many products are there?" }, Ct);
        Assert.Equal(HttpStatusCode.Created, enqueued.StatusCode);
        var id = (long)JsonNode.Parse(await enqueued.Content.ReadAsStringAsync(Ct))!["id"]!;
        JsonNode? task = null;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            task = JsonNode.Parse(await http.GetStringAsync($"/api/tasks/{id}", Ct));
            if ((string?)task!["status"] is "succeeded" or "failed" or "cancelled")
            {
                break;
            }
            await Task.Delay(200, Ct);
        }

        Assert.True((string?)task?["status"] == "succeeded", $"task {id}: {task?.ToJsonString()}\n{host.Output}");
        Assert.False(string.IsNullOrWhiteSpace((string?)task!["result_text"]));
        Assert.Contains(task["steps"]!.AsArray(), step => (string?)step!["kind"] == "tool");
    }

    [Fact]
    public async Task WritableToolsLogin_RefusesToStart_NamingTheProblem()
    {
        // The test database's admin login owns the tables: it could write.
        using var host = SampleProcess.Start(sample.App, Settings(_db.ConnectionString));
        var exited = await host.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(exited, "the sample kept running with a writable tools login:\n" + host.Output);
        Assert.NotEqual(0, host.ExitCode);
        Assert.Contains("is not read-only", host.Output, StringComparison.Ordinal);
    }

    /// <summary>The sample, packed and built once for the class (packing and restoring take a minute or two).</summary>
    public sealed class BuiltSample : IAsyncLifetime
    {
        /// <summary>Unique per run: NuGet caches a package version once per machine, so a fixed one would restore a stale build.</summary>
        private readonly string _version = "0.0.0-test." + Guid.NewGuid().ToString("N")[..12];

        private readonly string _dir = Path.Combine(Path.GetTempPath(), "agentworker-embedded-" + Guid.NewGuid().ToString("N")[..8]);

        /// <summary>The built sample's <c>EmbeddedHost.dll</c>.</summary>
        public string App { get; private set; } = null!; // Set in InitializeAsync.

        public async ValueTask InitializeAsync()
        {
            var sample = Path.Combine(_dir, "EmbeddedHost");
            CopyDirectory(Path.Combine(Repository.Root, "samples", "EmbeddedHost"), sample);
            var feed = Path.Combine(sample, "packages"); // the sample's nuget.config names this folder
            foreach (var project in (string[])["src/Jobs/Jobs.csproj", "src/Dashboard.Web/Dashboard.Web.csproj"])
            {
                await DotnetAsync(Repository.Root, "pack", Repository.File(project), "-c", "Release", "-o", feed, $"-p:Version={_version}");
            }
            Assert.True(File.Exists(Path.Combine(feed, $"AgentWorker.{_version}.nupkg")), "dotnet pack made no AgentWorker package");
            Assert.True(File.Exists(Path.Combine(feed, $"AgentWorker.Dashboard.{_version}.nupkg")), "dotnet pack made no AgentWorker.Dashboard package");
            await DotnetAsync(sample, "build", "-c", "Release", $"-p:AgentWorkerVersion={_version}");
            App = Path.Combine(sample, "bin", "Release", "net10.0", "EmbeddedHost.dll");
        }

        public ValueTask DisposeAsync()
        {
            if (Directory.Exists(_dir))
            {
                Directory.Delete(_dir, recursive: true);
            }
            // This run's packages leave the machine's package cache with it.
            var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (var id in (string[])["agentworker", "agentworker.dashboard"])
            {
                var cached = Path.Combine(cache, id, _version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The worker's configuration, as the environment variables a deployment would set.</summary>
    private Dictionary<string, string> Settings(string target) => new(StringComparer.Ordinal)
    {
        ["ConnectionStrings__App"] = _db.ConnectionString,
        ["ConnectionStrings__Target"] = target,
        ["Tools__Schemas"] = "shop",
        ["Llm__BaseUrl"] = _sim.BaseUrl.AbsoluteUri,
        ["Llm__ApiKey"] = SimulatorHost.ApiKey,
        ["Llm__Model"] = "sim-1",
    };

    private static async Task DotnetAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The sample is built as a user would build it: no MSBuild settings inherited from the test run's own dotnet.
        foreach (var inherited in (string[])["MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH"])
        {
            start.Environment.Remove(inherited);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{await stdout}{await stderr}");
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj" or "packages")
            {
                continue;
            }
            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The built sample, run as <c>dotnet EmbeddedHost.dll</c> on a free loopback port, its output kept.</summary>
    private sealed class SampleProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private SampleProcess(Process process, Uri baseUrl)
        {
            _process = process;
            BaseUrl = baseUrl;
        }

        public Uri BaseUrl { get; }

        public int ExitCode => _process.ExitCode;

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

        public static SampleProcess Start(string app, IReadOnlyDictionary<string, string> environment)
        {
            var url = new Uri($"http://127.0.0.1:{FreePort()}");
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = Path.GetDirectoryName(app)!, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var argument in (string[])[app, "--urls", url.AbsoluteUri.TrimEnd('/')])
            {
                start.ArgumentList.Add(argument);
            }
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            var sample = new SampleProcess(process, url);
            process.OutputDataReceived += (_, e) => sample.Append(e.Data);
            process.ErrorDataReceived += (_, e) => sample.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return sample;
        }

        /// <summary>Until <c>/readyz</c> answers 200 (every check tagged "ready" passes); fails with the output if it exits or takes 90 s.</summary>
        public async Task WaitUntilReadyAsync(HttpClient http, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                Assert.False(_process.HasExited, "the sample exited:\n" + Output);
                try
                {
                    using var ready = await http.GetAsync("/readyz", cancellationToken);
                    if (ready.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                await Task.Delay(250, cancellationToken);
            }
            Assert.Fail("the sample did not become ready in 90 s:\n" + Output);
        }

        public async Task<bool> WaitForExitAsync(TimeSpan timeout)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            limit.CancelAfter(timeout);
            try
            {
                await _process.WaitForExitAsync(limit.Token);
                return true;
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                return false;
            }
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
