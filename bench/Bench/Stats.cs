using System.Globalization;

namespace AgentWorker.Bench;

/// <summary>Percentiles of a sample (nearest rank).</summary>
internal static class Stats
{
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString(value < 10 ? "F2" : "F0", CultureInfo.InvariantCulture);

    public static string Num(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);
}
