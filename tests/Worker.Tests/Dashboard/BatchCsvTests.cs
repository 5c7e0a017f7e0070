using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentWorker.Tests.Infrastructure;
using Microsoft.VisualBasic.FileIO;

namespace AgentWorker.Tests.Dashboard;

/// <summary>
/// The batch results CSV, downloaded from the API and from the dashboard page, read as spreadsheets read it: with a
/// comma, a semicolon or a tab as the separator, honouring quotes or not, and split at every line break. No cell may
/// start a formula, wherever in a value the model put one.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class BatchCsvTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What a cell may not start with: a spreadsheet runs it (OWASP's list, and the full-width forms).</summary>
    private static readonly char[] s_formula = ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'];

    private static readonly string[] s_prompts =
    [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "fine; =HYPERLINK(\"http://evil.example\",\"semicolon\")",
        "first line\n=1+1",
        "first line\r\n@SUM(A1:A2)",
        "a,\t=cmd|' /C calc'!A0",
        "tab\t+1",
        "spaced;   -1+2",
        "quoted;\"=1+2",
        "wide;\uFF1D1+1",
        "comma, and nothing else",
    ];

    /// <summary>Every cell of <paramref name="csv"/> read with <paramref name="separator"/>, honouring quotes or not (as TextFieldParser reads).</summary>
    private static List<string> Cells(string csv, string separator, bool quotes)
    {
        using var parser = new TextFieldParser(new StringReader(csv))
        {
            TextFieldType = FieldType.Delimited, Delimiters = [separator], HasFieldsEnclosedInQuotes = quotes, TrimWhiteSpace = false,
        };
        var cells = new List<string>();
        while (!parser.EndOfData)
        {
            try
            {
                cells.AddRange(parser.ReadFields() ?? []);
            }
            catch (MalformedLineException)
            {
                // A lenient reader takes such a line as it stands.
                cells.AddRange(parser.ErrorLine.Split(separator));
            }
        }
        return cells;
    }

    /// <summary>Lines of the file split at every CR and LF, then cells at every separator, quotes ignored.</summary>
    private static IEnumerable<string> RawCells(string csv) =>
        csv.Split(['\r', '\n']).SelectMany(line => line.Split([',', ';', '\t']));

    private static bool StartsFormula(string cell) =>
        new[] { cell, cell.Trim(), cell.TrimStart(' ', '"'), cell.Trim().TrimStart('"') }.Any(c => c.Length > 0 && s_formula.Contains(c[0]));

    [Fact]
    public async Task ResultsCsv_ReadWithAnySeparator_OrSplitAtLineBreaks_HasNoCellStartingAFormula_AndKeepsTheText()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue_batch(name => 'csv formulas', prompts => @prompts)", new { prompts = s_prompts });
        // The two downloads must see the same rows: not a task still running in one and done in the other.
        await env.Database.WaitUntilAsync("select status = 'finished' from agent.batches where id = @id", new { id });
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };

        var api = Encoding.UTF8.GetString(await http.GetByteArrayAsync($"/api/batches/{id}/results.csv", Ct))[1..];
        var page = Encoding.UTF8.GetString(await http.GetByteArrayAsync($"/hangfire/agent/batches/{id}/results.csv", Ct))[1..];

        Assert.Equal(api, page);
        var readings = new Dictionary<string, IEnumerable<string>>
        {
            ["comma"] = Cells(api, ",", quotes: true), ["comma, no quotes"] = Cells(api, ",", quotes: false),
            ["semicolon"] = Cells(api, ";", quotes: true), ["semicolon, no quotes"] = Cells(api, ";", quotes: false),
            ["tab"] = Cells(api, "\t", quotes: true), ["tab, no quotes"] = Cells(api, "\t", quotes: false),
            ["lines"] = RawCells(api),
        };
        var formulas = readings.SelectMany(r => r.Value.Where(StartsFormula).Select(cell => $"{r.Key}: {cell}")).ToList();
        Assert.True(formulas.Count == 0, "cells that start a formula:\n" + string.Join("\n", formulas));
        // Read as written (comma, quotes), the text is the prompt with an apostrophe before each formula start only.
        var prompts = Cells(api, ",", quotes: true).Chunk(11).Skip(1).Select(row => row[3]).ToList();
        Assert.Equal(s_prompts.Length, prompts.Count);
        Assert.Contains("'=HYPERLINK(\"http://evil.example\",\"x\")", prompts);
        Assert.Contains("fine;' =HYPERLINK(\"http://evil.example\",\"semicolon\")", prompts);
        Assert.Contains("first line\n'=1+1", prompts);
        Assert.Contains("a,'\t'=cmd|' /C calc'!A0", prompts);
        Assert.Contains("quoted;'\"=1+2", prompts);
        Assert.Contains("comma, and nothing else", prompts);
        var json = (await http.GetFromJsonAsync<JsonArray>($"/api/batches/{id}/results", Ct))!;
        Assert.Equal(s_prompts.Order(StringComparer.Ordinal), json.Select(r => (string)r!["prompt"]!).Order(StringComparer.Ordinal)); // JSON: unchanged
    }
}
