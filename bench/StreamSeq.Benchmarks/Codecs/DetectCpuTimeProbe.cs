using System.Diagnostics;
using StreamSeq.Processing.Detection;

namespace StreamSeq.Benchmarks.Codecs;

/// <summary>
/// <c>--detect-cpu-time [file]</c>: rows per CPU-second of <c>streamseq detect</c> on one NAB file (read, check, step,
/// write), from this thread's processor time over repeated runs, so a shared machine's load blurs it less than wall
/// time; also the bytes this thread allocated per run.
/// </summary>
internal static class DetectCpuTimeProbe
{
    public static void Run(string? path)
    {
        var input = path ?? Environment.GetEnvironmentVariable("STREAMSEQ_NAB_FILE") ?? throw new ArgumentException("name a NAB file");
        var output = Path.Combine(Path.GetTempPath(), $"streamseq-detect-probe-{Environment.ProcessId}.csv");
        var runner = new AnomalyFileRunner();
        var rows = runner.ScoreFile(input, output);
        for (var i = 0; i < 5; i++)
        {
            runner.ScoreFile(input, output);
        }

        var best = double.MaxValue;
        long allocated = 0;
        for (var round = 0; round < 5; round++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            const int Runs = 10;
            for (var i = 0; i < Runs; i++)
            {
                runner.ScoreFile(input, output);
            }

            best = Math.Min(best, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / Runs);
            allocated = (GC.GetAllocatedBytesForCurrentThread() - bytes) / Runs;
        }

        File.Delete(output);
        Console.WriteLine($"detect {Path.GetFileName(input)}: {rows} rows, best {best * 1000:F2} ms CPU per run, {rows / best:F0} rows per CPU-second, {allocated:N0} bytes allocated per run ({(double)allocated / rows:F1} per row)");
    }
}
