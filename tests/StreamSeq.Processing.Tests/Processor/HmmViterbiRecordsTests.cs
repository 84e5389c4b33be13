using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Processor;

/// <summary>
/// The HMM's Viterbi outputs in records, as the CLI and the worker emit them: fixed-interval smoothed records carry the
/// Viterbi path of the whole stream, fixed-lag ones the state at t−L on the best path of the prefix, and filtered records
/// the head of the best path (<c>viterbiHead</c>), checked against the batch Viterbi of <see cref="HmmInference"/>.
/// </summary>
public sealed class HmmViterbiRecordsTests
{
    private const int Lag = 4;
    private const string Spec = """
        {"name":"regimes","kind":"hmm","initialProbabilities":[0.5,0.3,0.2],
         "transition":[[0.90,0.07,0.03],[0.05,0.90,0.05],[0.04,0.06,0.90]],
         "emission":{"type":"gaussian","means":[-2,0,3],"variances":[1,0.5,2]}}
        """;

    [Fact]
    public void EmitFixedInterval_HmmStream_SmoothedRecordsCarryTheViterbiPath()
    {
        var (sink, values, model) = Run();
        var path = HmmInference.Viterbi(model, new ObservationSeries(1, values)).Path;
        var smoothed = sink.Of(OutputKind.Smoothed).Where(r => r.GetProperty("method").GetString() == "fixed-interval").ToList();
        Assert.Equal(values.Length, smoothed.Count);
        for (var t = 0; t < values.Length; t++)
        {
            Assert.Equal(t, smoothed[t].GetProperty("time").GetDouble());
            Assert.Equal(path[t], smoothed[t].GetProperty("viterbiState").GetInt32());
        }

        // The sequence of per-step heads is not the path on this stream: the reason the path is emitted.
        var heads = sink.Of(OutputKind.Filtered).Select(r => r.GetProperty("viterbiHead").GetInt32()).ToArray();
        Assert.NotEqual(path, heads);
        Assert.DoesNotContain(sink.Of(OutputKind.Filtered), r => r.TryGetProperty("viterbiState", out _));
    }

    [Fact]
    public void Process_HmmStreamWithLag_SmoothedRecordsCarryTheFixedLagDecision()
    {
        var (sink, values, model) = Run();
        var lagged = sink.Of(OutputKind.Smoothed).Where(r => r.GetProperty("method").GetString() == "fixed-lag").ToList();
        Assert.Equal(values.Length - Lag, lagged.Count);
        for (var i = 0; i < lagged.Count; i++)
        {
            var t = i + Lag;
            var prefix = HmmInference.Viterbi(model, new ObservationSeries(1, values[..(t + 1)])).Path;
            Assert.Equal(i, lagged[i].GetProperty("time").GetDouble());
            Assert.Equal(prefix[i], lagged[i].GetProperty("viterbiState").GetInt32());
        }
    }

    [Fact]
    public void EmitFixedInterval_TwoStreams_ProgressCountsEveryKeptStepOnceInOrder()
    {
        var binding = TestModels.Binding(Spec, lag: Lag);
        var values = Sample(120, 6);
        using var processor = new StreamProcessor(TestModels.Router(binding), new ProcessorOptions { KeepHistory = true }, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        string[] streams = ["a", "b"];
        var lengths = new[] { 120, 45 };
        for (var k = 0; k < streams.Length; k++)
        {
            for (var t = 0; t < lengths[k]; t++)
            {
                var json = $"{{\"time\":{t},\"values\":[{values[t].ToString("R", CultureInfo.InvariantCulture)}]}}";
                processor.ProcessEncoded(Encoding.UTF8.GetBytes(json), streams[k], double.NaN, default, new SourcePosition("in", 0, t), store, sink);
            }
        }

        var reports = new List<long>();
        processor.EmitFixedInterval(store, sink, null, reports.Add);

        // One report per smoothed step, counting up by one across both streams to their total.
        Assert.Equal(Enumerable.Range(1, 165).Select(i => (long)i), reports);
        Assert.Equal(165, sink.Of(OutputKind.Smoothed).Count(r => r.GetProperty("method").GetString() == "fixed-interval"));
    }

    private static (ListSink Sink, double[] Values, HiddenMarkovModel Model) Run()
    {
        var binding = TestModels.Binding(Spec, lag: Lag);
        var model = ((HiddenMarkovFilter)((Estimation.Smoothing.FixedLagSmoother)binding.Estimator).Inner).Model;
        var values = Sample(300, 5);
        using var processor = new StreamProcessor(TestModels.Router(binding), new ProcessorOptions { KeepHistory = true }, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        for (var t = 0; t < values.Length; t++)
        {
            var json = $"{{\"time\":{t},\"values\":[{values[t].ToString("R", CultureInfo.InvariantCulture)}]}}";
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(json), "pump", double.NaN, default, new SourcePosition("in", 0, t), store, sink);
        }

        processor.EmitFixedInterval(store, sink);
        return (sink, values, model);
    }

    /// <summary>A path of the spec's chain and its Gaussian readings.</summary>
    private static double[] Sample(int length, int seed)
    {
        double[][] a = [[0.90, 0.07, 0.03], [0.05, 0.90, 0.05], [0.04, 0.06, 0.90]];
        double[] means = [-2, 0, 3];
        double[] sds = [1, Math.Sqrt(0.5), Math.Sqrt(2)];
        var random = new Random(seed);
        var state = 1;
        var values = new double[length];
        for (var t = 0; t < length; t++)
        {
            var u = random.NextDouble();
            var next = 0;
            while (next < 2 && u > a[state][next])
            {
                u -= a[state][next];
                next++;
            }

            state = next;
            var g = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());
            values[t] = means[state] + (sds[state] * g);
        }

        return values;
    }
}
