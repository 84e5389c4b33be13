using System.Globalization;
using System.Text;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;
using Xunit.Abstractions;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// <c>streamseq run</c> over a CSV file allocates nothing per row once warm: reading the row, the processor's step with
/// fixed-lag smoothing and forecasts, and writing every output line. What a run allocates for the file as a whole
/// (model, buffers, streams) does not depend on its length, so a file four times as long allocates the same.
/// </summary>
public sealed class RunCommandAllocationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-cli-allocs-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Execute_LongerCsvFile_AllocatesNothingMorePerRow()
    {
        // The HMM example: its records carry family extras (state probabilities, Viterbi head), its smoothed records too.
        var model = RepositoryFiles.Path("examples", "hmm-regimes.json");
        var small = Input(2_000);
        var large = Input(8_000);
        Run(model, small);

        // Per extra row, averaged over 6,000 of them. The bound leaves room for the runtime's own bookkeeping on the
        // thread, not for anything a row allocates: the smallest object is 24 bytes. One pair of runs is not enough
        // under a loaded test run: the runtime may allocate a few kilobytes on the calling thread while the longer
        // run goes on (a full CI run once measured 7,784 bytes more for the longer file, 1.3 bytes per row, and the
        // test then passed alone six times at zero). A row that allocates does so in every run, so the fewest extra
        // bytes of up to three pairs is what the rows allocate.
        var perRow = double.MaxValue;
        long smallBytes = 0, largeBytes = 0;
        for (var attempt = 0; attempt < 3 && perRow >= 1.0; attempt++)
        {
            smallBytes = Run(model, small);
            largeBytes = Run(model, large);
            perRow = Math.Min(perRow, (double)(largeBytes - smallBytes) / 6_000);
            output.WriteLine($"{perRow:F2} bytes per row ({smallBytes:N0} bytes for 2,000 rows, {largeBytes:N0} for 8,000)");
        }

        Assert.True(perRow < 1.0, $"{perRow:F1} bytes per row ({smallBytes:N0} bytes for 2,000 rows, {largeBytes:N0} for 8,000)");
    }

    private string Input(int rows)
    {
        var path = Path.Combine(dir, $"in-{rows}.csv");
        var text = new StringBuilder("stream,time,value\n");
        var rng = new Random(5);
        for (var i = 0; i < rows; i++)
        {
            var level = (i / 50 % 3) switch { 0 => -2.0, 1 => 0.0, _ => 3.0 };
            text.Append(CultureInfo.InvariantCulture, $"pump-{i % 3},{(i / 3) + 1},{level + rng.NextDouble() - 0.5:R}\n");
        }

        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>Bytes one run allocated on this thread (the run reads, steps and writes on the calling thread).</summary>
    private long Run(string model, string input)
    {
        var errors = new StringWriter();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var code = RunCommand.Execute(model, input, Path.Combine(dir, "out.jsonl"), 2, 2, false, 0, false, null, TextWriter.Null, errors);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(code == 0, errors.ToString());
        return allocated;
    }
}
