using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;
using StreamSeq.Testing;
using Xunit.Abstractions;

namespace StreamSeq.Processing.Tests.Processor;

/// <summary>
/// The processor's per-record path (decode, step, fixed-lag smoothing, forecasts, rules, encoding of every output)
/// allocates nothing once a stream is warm, for every bundled example model: one per family, plus the models that share
/// another example's data (the Nile with exact diffuse initialisation, the recurrent UKF and particle models).
/// </summary>
/// <remarks>
/// The first half of each file warms up (streams created, state buffers grown to their fixed-lag window, per-thread
/// scratch taken); the second half is measured in four windows of consecutive records, and the fewest bytes of a
/// window must be zero: a record path that allocates does so in every window, while the runtime may allocate once on
/// the thread in one of them (see the Estimation tests' SteadyStateAllocation).
/// </remarks>
public sealed class ProcessorAllocationTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var name in Directory.GetFiles(RepositoryFiles.Path("examples"), "*.csv").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => File.Exists(RepositoryFiles.Path("examples", n + ".json"))))
        {
            cases.Add(name, name);
        }

        cases.Add("nile-diffuse", "nile");
        cases.Add("recurrent-sensor-ukf", "recurrent-sensor");
        cases.Add("recurrent-sensor-particle", "recurrent-sensor");
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProcessEncoded_ExampleModelWithLagAndHorizon_AllocatesNothingPerRecord(string model, string data)
    {
        var binding = ModelBindingFactory.FromSpec(ModelSpec.Load(RepositoryFiles.Path("examples", model + ".json")), lag: 2, horizon: 2);
        var rows = ExampleModels.Rows(data, binding.UnitMilliseconds);
        using var processor = new StreamProcessor(new ModelRouter([binding]), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new NullSink();
        var half = rows.Count / 2;
        for (var i = 0; i < half; i++)
        {
            processor.ProcessEncoded(rows[i].Json, default, double.NaN, default, default, store, sink);
        }

        var window = (rows.Count - half) / 4;
        var fewest = long.MaxValue;
        for (var w = 0; w < 4; w++)
        {
            var start = half + (w * window);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = start; i < start + window; i++)
            {
                processor.ProcessEncoded(rows[i].Json, default, double.NaN, default, default, store, sink);
            }

            var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            output.WriteLine($"{model}: window {w}: {bytes} bytes over {window} records = {(double)bytes / window:F1} B/record");
            fewest = Math.Min(fewest, bytes);
        }

        Assert.Equal(0, sink.DeadLetters);
        Assert.True(sink.Written > 0);
        Assert.Equal(0, fewest);
    }

    private sealed class NullSink : IRecordSink
    {
        public int DeadLetters { get; private set; }

        public long Written { get; private set; }

        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record) => Written += record.Length;

        public void DeadLetter(in DeadLetter letter) => DeadLetters++;
    }
}
