using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AgentWorker.Tests.Architecture;

/// <summary>
/// The feature folders of <c>src/Jobs</c> use each other only along the edges <c>docs/architecture.md</c> allows. The
/// library's sources are compiled here with Roslyn, and every name in them is resolved to the file that declares it, so
/// an edge counts however it is spelt (a using, a qualified name, a name from an enclosing namespace).
/// </summary>
public sealed partial class FolderLayerTests
{
    private static readonly string s_jobs = Path.Combine(Repository.Root, "src", "Jobs");

    [Fact]
    public void EveryEdgeBetweenFeatureFolders_IsOneTheArchitectureAllows()
    {
        var allowed = AllowedEdges();
        var forbidden = Edges()
            .Where(e => !(allowed.TryGetValue(e.From, out var may) && (may.Contains("*") || may.Contains(e.To))))
            .Select(e => $"{e.From} -> {e.To}: {e.File} uses {e.Type}")
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(forbidden.Count == 0, "Forbidden edges (docs/architecture.md):\n" + string.Join("\n", forbidden));
    }

    [Fact]
    public void EveryFeatureFolder_IsInTheArchitecture_AndTheScanSeesEdges()
    {
        var folders = Directory.GetDirectories(s_jobs).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToHashSet();
        var edges = Edges();

        Assert.Equal(folders.Order(StringComparer.Ordinal), AllowedEdges().Keys.Order(StringComparer.Ordinal));
        // The scan is not blind: the edges every build has (Hosting registers everything, Runs runs the loop) are found.
        Assert.Contains(edges, e => e is { From: "Hosting", To: "Runs" });
        Assert.Contains(edges, e => e is { From: "Runs", To: "Agent" });
    }

    [Fact]
    public void HangfireTypes_AreUsedOnlyInTheHangfireAdapterAndTheRegistration()
    {
        var users = Uses(symbol => symbol.ContainingNamespace?.ToDisplayString() is { } ns && (ns == "Hangfire" || ns.StartsWith("Hangfire.", StringComparison.Ordinal))
                && symbol.ContainingAssembly?.Name.StartsWith("Hangfire", StringComparison.Ordinal) == true)
            .Where(u => u.Folder is not ("Hangfire" or "Hosting"))
            .Select(u => $"{u.File} uses {u.Type}")
            .Distinct(StringComparer.Ordinal)
            .ToList();

        Assert.True(users.Count == 0, "Hangfire outside the adapter:\n" + string.Join("\n", users));
    }

    /// <summary>The table of docs/architecture.md: folder -> the folders it may use ("*": any).</summary>
    private static Dictionary<string, HashSet<string>> AllowedEdges()
    {
        var table = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Repository.File("docs/architecture.md")))
        {
            var match = RowPattern().Match(line);
            if (match.Success && match.Groups["folder"].Value != "folder")
            {
                table[match.Groups["folder"].Value] = match.Groups["uses"].Value
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            }
        }
        return table;
    }

    [GeneratedRegex(@"^\|\s*(?<folder>[A-Za-z]+)\s*\|\s*(?<uses>[A-Za-z, *]*?)\s*\|")]
    private static partial Regex RowPattern();

    private sealed record Edge(string From, string To, string File, string Type);

    private sealed record Use(string Folder, string File, string Type);

    private static List<Edge> Edges() =>
        [.. Uses(symbol => symbol.DeclaringSyntaxReferences.Length > 0)
            .SelectMany(u => DeclaringFolders(u.Symbol).Where(to => to != u.Folder).Select(to => new Edge(u.Folder, to, u.File, u.Type)))];

    private static IEnumerable<(string Folder, string File, string Type, INamedTypeSymbol Symbol)> Uses(Func<INamedTypeSymbol, bool> which)
    {
        var compilation = Compile();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var relative = Path.GetRelativePath(s_jobs, tree.FilePath);
            var folder = relative.Split(Path.DirectorySeparatorChar)[0];
            var model = compilation.GetSemanticModel(tree);
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var info = model.GetSymbolInfo(name);
                foreach (var symbol in info.Symbol is { } s ? [s] : info.CandidateSymbols)
                {
                    if (TopLevelType(symbol) is { } type && which(type))
                    {
                        yield return (folder, relative, type.ToDisplayString(), type);
                    }
                }
            }
        }
    }

    private static INamedTypeSymbol? TopLevelType(ISymbol symbol)
    {
        var type = symbol as INamedTypeSymbol ?? symbol.ContainingType;
        if (symbol is IMethodSymbol { ReducedFrom: { } extension })
        {
            type = extension.ContainingType;
        }
        while (type?.ContainingType is { } outer)
        {
            type = outer;
        }
        return type?.OriginalDefinition;
    }

    private static IEnumerable<string> DeclaringFolders(INamedTypeSymbol type) =>
        type.DeclaringSyntaxReferences
            .Select(r => Path.GetRelativePath(s_jobs, r.SyntaxTree.FilePath).Split(Path.DirectorySeparatorChar)[0])
            .Distinct(StringComparer.Ordinal);

    private static CSharpCompilation Compile()
    {
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var sources = Directory.EnumerateFiles(s_jobs, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(p => CSharpSyntaxTree.ParseText(File.ReadAllText(p), options, p))
            .Append(CSharpSyntaxTree.ParseText("""
                global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq;
                global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;
                """, options, Path.Combine(s_jobs, "obj", "GlobalUsings.cs")));
        // Everything the test process can load except the library itself, whose types come from the sources above.
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => !Path.GetFileName(p).StartsWith("AgentWorker", StringComparison.Ordinal))
            .Select(p => MetadataReference.CreateFromFile(p));
        return CSharpCompilation.Create("LayerScan", sources, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }
}
