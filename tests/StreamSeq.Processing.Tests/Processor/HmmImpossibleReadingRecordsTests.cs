using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Processor;

/// <summary>
/// A categorical HMM stream with readings outside the support (−1, 1.5 and 3 with three categories), processed as
/// <c>streamseq run --smooth</c> processes it, against the batch forward–backward and Viterbi of
/// <see cref="HmmInference"/> on the same series: the filtered records' <c>logLik</c> is <c>"-Infinity"</c> exactly
/// where the batch log predictive density is −∞ (it was NaN there) and equal to it elsewhere, and the fixed-interval
/// records carry the batch smoothed probabilities and Viterbi path.
/// </summary>
public sealed class HmmImpossibleReadingRecordsTests
{
    private const string Spec = """
        {"name":"symbols","kind":"hmm","initialProbabilities":[0.3,0.7],
         "transition":[[0.9,0.1],[0.2,0.8]],
         "emission":{"type":"categorical","probabilities":[[0.5,0.4,0.1],[0.2,0.3,0.5]]}}
        """;

    private static readonly double[] Readings = [1, 0, -1, 2, 2, 1.5, 0, 0, 3, 1, 2, 2, 0, 1, 1, 2, -1, 0];

    [Fact]
    public void RunSmooth_ReadingsOutsideTheSupport_RecordsMatchTheBatchForwardBackward()
    {
        var binding = TestModels.Binding(Spec);
        var filter = (HiddenMarkovFilter)binding.Estimator;
        using var processor = new StreamProcessor(TestModels.Router(binding), new ProcessorOptions { KeepHistory = true }, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        for (var t = 0; t < Readings.Length; t++)
        {
            var json = $"{{\"time\":{t},\"values\":[{Readings[t].ToString("R", CultureInfo.InvariantCulture)}]}}";
            processor.ProcessEncoded(Encoding.UTF8.GetBytes(json), "s", double.NaN, default, new SourcePosition("in", 0, t), store, sink);
        }

        processor.EmitFixedInterval(store, sink);
        var series = new ObservationSeries(1, Readings);
        var posterior = HmmInference.ForwardBackward(filter.Model, series);
        var path = HmmInference.Viterbi(filter.Model, series).Path;
        var filtered = sink.Of(OutputKind.Filtered).ToList();
        var smoothed = sink.Of(OutputKind.Smoothed).ToList();
        Assert.Equal(Readings.Length, filtered.Count);
        Assert.Equal(Readings.Length, smoothed.Count);
        for (var t = 0; t < Readings.Length; t++)
        {
            var expected = posterior.LogPredictiveDensity[t];
            var logLik = filtered[t].GetProperty("logLik");
            if (double.IsNegativeInfinity(expected))
            {
                Assert.Equal(JsonValueKind.String, logLik.ValueKind);
                Assert.Equal("-Infinity", logLik.GetString());
            }
            else
            {
                Assert.True(double.IsFinite(expected), $"t={t}: batch density {expected}");
                Assert.Equal(expected, logLik.GetDouble(), 1e-12);
            }

            var state = smoothed[t].GetProperty("state").GetProperty("mean");
            for (var k = 0; k < 2; k++)
            {
                Assert.Equal(posterior.Smoothed[(t * 2) + k], state[k].GetDouble(), 1e-12);
            }

            Assert.Equal(path[t], smoothed[t].GetProperty("viterbiState").GetInt32());
        }

        Assert.Equal(4, filtered.Count(r => r.GetProperty("logLik").ValueKind == JsonValueKind.String));
    }
}
