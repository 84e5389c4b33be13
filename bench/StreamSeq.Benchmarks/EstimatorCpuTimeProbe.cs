using System.Diagnostics;
using System.Runtime.InteropServices;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Benchmarks;

/// <summary>
/// A contention-tolerant companion to <see cref="HmmBenchmarks"/>, <see cref="ChangepointBenchmarks"/> and
/// <see cref="ParticleFilterBenchmarks"/>: runs the same benchmark methods on the same setups, timed in the calling
/// thread's CPU time (best of several rounds) instead of wall-clock time, so time slicing on a shared machine does
/// not count against them. Cache pollution from other jobs still does.
/// Run with <c>dotnet run -c Release -- --estimator-cpu-time [hmm|bocpd|particle]</c>.
/// </summary>
internal static class EstimatorCpuTimeProbe
{
    private const int Rounds = 11;

    public static void Run(string? only)
    {
        Console.WriteLine($"{"case",-52} {"CPU ns/step (best)",18} {"median",10} {"steps/s (best)",16}");
        if (only is null or "hmm")
        {
            var hmm = new HmmBenchmarks();
            hmm.Setup();
            Measure("HMM forward step, K = 3 Gaussian", 1024, 2_000_000, () => hmm.ForwardStep());
        }

        if (only is null or "bocpd")
        {
            foreach (var observation in new[] { "normal-known-variance", "normal-gamma" })
            {
                foreach (var recursion in new[] { RunLengthRecursion.Changepoint, RunLengthRecursion.AdamsMacKay })
                {
                    var cp = new ChangepointBenchmarks { Observation = observation, Recursion = recursion };
                    cp.Setup();
                    Measure($"BOCPD R = 500, {observation}, {recursion}", 256, 20_000, () => cp.Step());
                }
            }
        }

        if (only is null or "particle")
        {
            foreach (var threshold in new[] { 0.5, 1.0 })
            {
                foreach (var algorithm in new[] { ParticleFilterAlgorithm.Bootstrap, ParticleFilterAlgorithm.Auxiliary })
                {
                    var pf = new ParticleFilterBenchmarks { Algorithm = algorithm, EssThreshold = threshold };
                    pf.Setup();
                    Measure($"PF growth N = 1000, {algorithm}, ESS < {threshold}", 1, 10_000, () => pf.Step());
                }
            }
        }
    }

    private static void Measure(string name, int stepsPerCall, int stepsPerRound, Func<double> call)
    {
        var calls = Math.Max(1, stepsPerRound / stepsPerCall);
        var sink = 0.0;
        for (var i = 0; i < calls; i++)
        {
            sink += call();
        }

        var times = new double[Rounds];
        for (var round = 0; round < Rounds; round++)
        {
            var start = ThreadCpuSeconds();
            for (var i = 0; i < calls; i++)
            {
                sink += call();
            }

            times[round] = (ThreadCpuSeconds() - start) / ((double)calls * stepsPerCall);
        }

        Array.Sort(times);
        var best = times[0];
        var median = times[Rounds / 2];
        Console.WriteLine($"{name,-52} {best * 1e9,18:F1} {median * 1e9,10:F1} {1 / best,16:N0}{(double.IsNaN(sink) ? " (NaN seen)" : string.Empty)}");
    }

    /// <summary>CPU time of the calling thread (Linux), falling back to the process's CPU time elsewhere.</summary>
    private static double ThreadCpuSeconds()
    {
        if (OperatingSystem.IsLinux() && NativeMethods.clock_gettime(NativeMethods.ClockThreadCpuTime, out var ts) == 0)
        {
            return ts.Seconds + (ts.Nanoseconds * 1e-9);
        }

        return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    private static class NativeMethods
    {
        public const int ClockThreadCpuTime = 3;

        [DllImport("libc", SetLastError = false)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int clock_gettime(int clock, out TimeSpec time);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
