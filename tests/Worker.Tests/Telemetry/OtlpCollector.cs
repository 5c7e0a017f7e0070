using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Tests.Telemetry;

/// <summary>One span as an OTLP collector received it (ids in lowercase hex, as W3C traceparent writes them).</summary>
public sealed record OtlpSpan(
    string Service, string Scope, string Name, string TraceId, string SpanId, string ParentSpanId,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links);

/// <summary>
/// An in-process OTLP/HTTP collector (<c>/v1/traces</c>, <c>/v1/metrics</c>, protobuf): what a worker exports over the
/// wire, read with Google.Protobuf's wire reader against the field numbers of opentelemetry-proto.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpCollector(WebApplication app) => _app = app;

    public ConcurrentBag<OtlpSpan> Spans { get; } = [];

    /// <summary>Metric names received, by instrumentation scope (meter) name.</summary>
    public ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> Metrics { get; } = new();

    public Uri Endpoint => new(_app.Urls.First());

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/traces", async (HttpRequest request) => { collector.ReadTraces(await BodyAsync(request)); return Results.Ok(); });
        app.MapPost("/v1/metrics", async (HttpRequest request) => { collector.ReadMetrics(await BodyAsync(request)); return Results.Ok(); });
        await app.StartAsync();
        return collector;
    }

    private static async Task<byte[]> BodyAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        return body.ToArray();
    }

    // opentelemetry-proto: ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.resource = 1, scope_spans = 2;
    // ScopeSpans.scope = 1, spans = 2; Span: trace_id 1, span_id 2, parent_span_id 4, name 5, attributes 9, links 13.
    private void ReadTraces(byte[] message)
    {
        foreach (var resourceSpans in Fields(message).Where(f => f.Number == 1))
        {
            var resource = Fields(resourceSpans.Bytes);
            var service = resource.Where(f => f.Number == 1).Select(f => Attributes(f.Bytes, 1)).FirstOrDefault()?.GetValueOrDefault("service.name") ?? "";
            foreach (var scopeSpans in resource.Where(f => f.Number == 2))
            {
                var fields = Fields(scopeSpans.Bytes);
                var scope = fields.Where(f => f.Number == 1).Select(f => Text(Fields(f.Bytes), 1)).FirstOrDefault() ?? "";
                foreach (var span in fields.Where(f => f.Number == 2).Select(f => Fields(f.Bytes)))
                {
                    Spans.Add(new OtlpSpan(service, scope, Text(span, 5) ?? "", Hex(span, 1), Hex(span, 2), Hex(span, 4),
                        Attributes(span, 9),
                        span.Where(f => f.Number == 13).Select(f => Fields(f.Bytes)).Select(l => (Hex(l, 1), Hex(l, 2))).ToList()));
                }
            }
        }
    }

    // ExportMetricsServiceRequest.resource_metrics = 1; ResourceMetrics.scope_metrics = 2; ScopeMetrics.scope = 1,
    // metrics = 2; Metric.name = 1.
    private void ReadMetrics(byte[] message)
    {
        foreach (var resourceMetrics in Fields(message).Where(f => f.Number == 1))
        {
            foreach (var scopeMetrics in Fields(resourceMetrics.Bytes).Where(f => f.Number == 2))
            {
                var fields = Fields(scopeMetrics.Bytes);
                var scope = fields.Where(f => f.Number == 1).Select(f => Text(Fields(f.Bytes), 1)).FirstOrDefault() ?? "";
                var names = Metrics.GetOrAdd(scope, _ => new ConcurrentDictionary<string, bool>());
                foreach (var metric in fields.Where(f => f.Number == 2))
                {
                    names[Text(Fields(metric.Bytes), 1) ?? ""] = true;
                }
            }
        }
    }

    private readonly record struct Field(int Number, ulong Number64, byte[] Bytes);

    /// <summary>The fields of one protobuf message, in order (varints as numbers, length-delimited as bytes).</summary>
    private static List<Field> Fields(byte[] message)
    {
        var fields = new List<Field>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint:
                    fields.Add(new Field(number, input.ReadUInt64(), []));
                    break;
                case WireFormat.WireType.LengthDelimited:
                    fields.Add(new Field(number, 0, input.ReadBytes().ToByteArray()));
                    break;
                case WireFormat.WireType.Fixed64:
                    fields.Add(new Field(number, input.ReadFixed64(), []));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return fields;
    }

    private static string? Text(List<Field> fields, int number) =>
        fields.Where(f => f.Number == number).Select(f => System.Text.Encoding.UTF8.GetString(f.Bytes)).FirstOrDefault();

    private static string Hex(List<Field> fields, int number) =>
        Convert.ToHexStringLower(fields.FirstOrDefault(f => f.Number == number).Bytes ?? []);

    // KeyValue: key 1, value 2 (AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4).
    private static Dictionary<string, string> Attributes(byte[] message, int number) => Attributes(Fields(message), number);

    private static Dictionary<string, string> Attributes(List<Field> fields, int number)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var pair in fields.Where(f => f.Number == number).Select(f => Fields(f.Bytes)))
        {
            var value = pair.Where(f => f.Number == 2).Select(f => Fields(f.Bytes)).FirstOrDefault() ?? [];
            attributes[Text(pair, 1) ?? ""] = value.FirstOrDefault() switch
            {
                { Number: 1 } v => System.Text.Encoding.UTF8.GetString(v.Bytes),
                { Number: 2 } v => v.Number64 != 0 ? "true" : "false",
                { Number: 3 } v => ((long)v.Number64).ToString(System.Globalization.CultureInfo.InvariantCulture),
                { Number: 4 } v => BitConverter.UInt64BitsToDouble(v.Number64).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
        }
        return attributes;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
