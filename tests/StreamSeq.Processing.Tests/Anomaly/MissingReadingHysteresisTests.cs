using System.Globalization;
using System.Text;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Anomaly;

/// <summary>
/// With hysteresis an alert episode ends when every rule's score returns inside its clear threshold. A reading that is
/// wholly missing has no score, so it says nothing about whether the anomaly is over: a sensor that spikes, drops out
/// and spikes again is one episode. The missing reading used to count as "cleared", and the second spike raised a
/// second alert.
/// </summary>
public sealed class MissingReadingHysteresisTests
{
    private const string Spec = """
        {"name":"level","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[0.0001]],"observation":[[1]],
         "observationNoise":[[1]],"initialMean":[0],"initialCovariance":[[0.01]],
         "anomalyRules":[{"name":"chi","type":"chi-square","threshold":0.001},{"name":"nis","type":"nis","threshold":50},
                         {"name":"loglik","type":"log-likelihood","threshold":-30}]}
        """;

    [Theory]
    [InlineData("null", 1)]
    [InlineData("0.1", 2)]
    public void Run_SpikeThenAReadingThenSpike_OneEpisodeUnlessTheReadingClearsIt(string between, int alerts)
    {
        // A level known to about 0.1 and stiff (a spike moves it by about 0.4): spikes of 40 are far beyond every
        // rule, and a reading of 0.1 between them is well inside every clear threshold and ends the episode; a missing
        // one does not.
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Spec)), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        string[] readings = ["0", "0.2", "-0.1", "40", between, "40", "0"];
        for (var t = 0; t < readings.Length; t++)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $$"""{"time":{{t}},"values":[{{readings[t]}}]}""");
            p.ProcessEncoded(Encoding.UTF8.GetBytes(line), "s", double.NaN, default, new SourcePosition("in", 0, t), store, sink);
        }

        Assert.Equal(readings.Length, sink.Of(OutputKind.Filtered).Count());
        Assert.Equal(alerts, sink.Of(OutputKind.Anomaly).Count());
    }
}
