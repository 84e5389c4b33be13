using System.Diagnostics;

namespace StreamSeq.EndToEnd;

/// <summary>Wall time, process CPU time and managed allocations between two points.</summary>
internal readonly record struct Measure(TimeSpan Wall, TimeSpan Cpu, long Allocated)
{
    public static Probe Start() => new(Stopwatch.GetTimestamp(), CpuNow(), GC.GetTotalAllocatedBytes(precise: false));

    public static TimeSpan CpuNow()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>Median of a list.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]);
    }

    /// <summary>The q-quantile (0..1) by the nearest-rank rule.</summary>
    public static double Quantile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    internal readonly record struct Probe(long Ticks, TimeSpan Cpu, long Allocated)
    {
        public Measure Stop() => new(Stopwatch.GetElapsedTime(Ticks), CpuNow() - Cpu, GC.GetTotalAllocatedBytes(precise: false) - Allocated);
    }
}
