using System.Security.Cryptography;
using System.Text;

namespace AgentWorker.Jobs.Migrations;

/// <summary>One forward-only SQL file from <c>migrations/</c>, identified by its file name.</summary>
public sealed record Migration(string Name, string Sql)
{
    /// <summary>SHA-256 of the text; computed, so a copy made with <c>with { Sql = ... }</c> cannot carry a stale one.</summary>
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));

    /// <summary>The migrations compiled into this assembly, in the order they apply (ordinal by file name).</summary>
    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    private static List<Migration> LoadEmbedded()
    {
        const string prefix = "migrations/";
        var assembly = typeof(Migration).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"Embedded migration {resource} could not be opened.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(resource[prefix.Length..], reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return migrations;
    }
}
