using System.Text;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Views;

namespace StreamSeq.Processing.Tests.Views;

public sealed class ChartRecordReaderTests
{
    private static ChartRecordReader ReaderFor(ObservationProjection? projection, string model, bool dates = false) =>
        new(name => name == model ? projection : null, dates);

    [Fact]
    public void Read_RunOutput_GivesEveryKindInObservationSpace()
    {
        var binding = ViewRuns.Binding(ViewRuns.Linear3x2, lag: 2, horizon: 2);
        var sink = ViewRuns.Run(binding, ViewRuns.TwoComponentSeries(20));
        var reader = ReaderFor(ObservationProjection.For(binding.Estimator), "lin");
        var records = sink.Records.Select(r => reader.Read(Encoding.UTF8.GetBytes(r.Json))).ToList();
        Assert.Equal(20, records.Count(r => r.Kind == OutputKind.Filtered));
        Assert.Equal(18, records.Count(r => r.Kind == OutputKind.Smoothed));
        Assert.Equal(40, records.Count(r => r.Kind == OutputKind.Forecast));
        Assert.All(records, r => Assert.False(r.TimeIsDate));
        foreach (var r in records.Where(r => r.Kind != OutputKind.Anomaly))
        {
            Assert.Equal(2, r.Mean!.Length);
            Assert.All(r.StandardDeviation!, sd => Assert.True(double.IsFinite(sd) && sd > 0));
        }

        // A smoothed estimate uses later readings too, so it is at least as certain as the filtered one at that time.
        var filtered = records.Where(r => r.Kind == OutputKind.Filtered).ToDictionary(r => r.Time);
        foreach (var s in records.Where(r => r.Kind == OutputKind.Smoothed))
        {
            Assert.Equal("fixed-lag", s.Method);
            Assert.Equal(2, s.Lag);
            for (var i = 0; i < 2; i++)
            {
                Assert.True(s.StandardDeviation![i] <= filtered[s.Time].StandardDeviation![i] * (1 + 1e-9));
            }
        }

        // Forecasts say where they come from and how far ahead they look.
        var last = records.Where(r => r.Kind == OutputKind.Forecast).TakeLast(2).ToList();
        Assert.Equal([1, 2], last.Select(f => f.Horizon));
        Assert.All(last, f => Assert.Equal(20, f.MadeAt));
        Assert.Equal([21.0, 22.0], last.Select(f => f.Time));
    }

    [Fact]
    public void Read_WithoutProjection_KeepsOnlyThePredictiveDistribution()
    {
        var binding = ViewRuns.Binding(ViewRuns.Linear3x2, lag: 1);
        var sink = ViewRuns.Run(binding, ViewRuns.TwoComponentSeries(5));
        var reader = ReaderFor(null, "lin");
        var filtered = reader.Read(Encoding.UTF8.GetBytes(sink.Records.First(r => r.Kind == OutputKind.Filtered).Json));
        Assert.Null(filtered.Mean);
        Assert.Equal(2, filtered.PredictiveMean!.Length);
        Assert.True(filtered.PredictiveStandardDeviation![0] > 0);
        var smoothed = reader.Read(Encoding.UTF8.GetBytes(sink.Records.First(r => r.Kind == OutputKind.Smoothed).Json));
        Assert.Null(smoothed.Mean);
    }

    [Fact]
    public void Read_UnresolvedDiffuseSeasonalState_TakesTheFilteredBandFromThePredictiveCovariance()
    {
        // The bundled room-temperature model writes infinite state covariances while a diffuse part remains (at most
        // 2n = 12 readings; its slow daily cycle then gets a stated finite variance). Wherever the predictive covariance
        // of the reading is finite, the filtered band comes from it: finite, positive and narrower than the predictive
        // band; the mean is always drawn.
        var spec = File.ReadAllText(RepositoryExamples.Path("sensors.json"));
        var binding = ViewRuns.Binding(spec);
        var sink = ViewRuns.RunJson(binding, ViewRuns.SensorRows("temperature-0004", 400));
        var reader = ReaderFor(ObservationProjection.For(binding.Estimator), "room-temperature");
        var filtered = sink.Of(OutputKind.Filtered).Select(e => reader.Read(Encoding.UTF8.GetBytes(e.GetRawText()))).ToList();
        Assert.Equal(400, filtered.Count);
        Assert.All(filtered, r => Assert.True(r.TimeIsDate && double.IsFinite(r.Mean![0])));
        var stateInfinite = sink.Of(OutputKind.Filtered).Count(e => e.GetProperty("state").GetProperty("cov")[0][0].ValueKind == System.Text.Json.JsonValueKind.String);
        Assert.InRange(stateInfinite, 1, 12);
        var banded = filtered.Where(r => double.IsFinite(r.PredictiveStandardDeviation![0])).Skip(5).ToList();
        Assert.NotEmpty(banded);
        Assert.All(banded, r => Assert.True(r.StandardDeviation![0] > 0 && r.StandardDeviation[0] < r.PredictiveStandardDeviation![0], $"sd {r.StandardDeviation[0]} vs predictive {r.PredictiveStandardDeviation![0]} at {r.Time}"));
    }

    [Fact]
    public void Read_AnomalyAndExtras_AreCarriedThrough()
    {
        var reader = ReaderFor(null, "m", dates: true);
        var anomaly = reader.Read("""{"type":"anomaly","stream":"a","time":1000,"model":"m","rule":"surprise","score":12.5,"threshold":4,"values":[1,null],"expected":[0.5,2],"logLik":-9,"nis":20}"""u8);
        Assert.Equal(OutputKind.Anomaly, anomaly.Kind);
        Assert.True(anomaly.TimeIsDate);
        Assert.Equal("surprise", anomaly.Rule);
        Assert.Equal(12.5, anomaly.Score);
        Assert.Equal(4, anomaly.Threshold);
        Assert.Equal(1, anomaly.Values![0]);
        Assert.True(double.IsNaN(anomaly.Values[1]));
        Assert.Equal([0.5, 2.0], anomaly.PredictiveMean!);
        var filtered = reader.Read("""{"type":"filtered","stream":"p","time":"2026-01-01T00:00:00Z","model":"m","observation":{"mean":[1],"cov":[[4]]},"logLik":null,"nis":null,"ess":812.5,"resampled":1,"stateProbabilities":[0.2,0.8],"health":["resampled"]}"""u8);
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), filtered.Time);
        Assert.Equal(812.5, filtered.Extras["ess"]);
        Assert.Equal(1, filtered.Extras["resampled"]);
        Assert.False(filtered.Extras.ContainsKey("stateProbabilities"));
        Assert.Equal(["resampled"], filtered.Health);
        Assert.Equal(2, filtered.PredictiveStandardDeviation![0]);
        Assert.True(double.IsNaN(filtered.Nis));
    }

    [Theory]
    [InlineData("""{"type":"filtered","stream":"s","model":"m"}""", "time")]
    [InlineData("""{"type":"weird","stream":"s","time":1,"model":"m"}""", "type")]
    [InlineData("""{"type":"forecast","stream":"s","time":1,"model":"m","observation":{"mean":[1]}}""", "horizon")]
    [InlineData("""{"type":"filtered","stream":"s","time":1,"model":"m","observation":{"mean":[1],"cov":[[1,2]]}}""", "observation.cov")]
    [InlineData("""[1,2]""", "object")]
    [InlineData("""{"type":""", "JSON")]
    public void Read_MalformedRecord_NamesTheProblem(string json, string named)
    {
        var e = Assert.Throws<FormatException>(() => ReaderFor(null, "m").Read(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Found by fuzzing (ProcessingParserFuzzTests, seed 9LdqzC9G79L1): a string that is not Unicode text (an unpaired
    /// surrogate escape, which an output line read back from a file or a topic can hold) made the JSON library throw
    /// InvalidOperationException out of the reader, stopping <c>plot</c> as a bug and the dashboard's feed at that record.
    /// </summary>
    [Theory]
    [InlineData("""{"type":"filtered","stream":"s","time":1,"model":"m","observation":{"mean":["\ud800"],"cov":[[1]]}}""", "observation.mean")]
    [InlineData("""{"type":"filtered","stream":"\ud800","time":1,"model":"m","observation":{"mean":[1],"cov":[[1]]}}""", "stream")]
    [InlineData("""{"type":"\udc00","stream":"s","time":1,"model":"m"}""", "type")]
    [InlineData("""{"type":"filtered","stream":"s","time":"\ud800","model":"m","observation":{"mean":[1],"cov":[[1]]}}""", "time")]
    [InlineData("""{"type":"filtered","stream":"s","time":1,"model":"m","observation":{"mean":[1],"cov":[[1]]},"\ud800":1}""", "a top-level field name")]
    [InlineData("""{"type":"filtered","stream":"s","time":1,"model":"m","observation":{"mean":[1],"cov":[[1]]},"health":["\udc00\ud800"]}""", "health")]
    [InlineData("""{"type":"filtered","stream":"s","time":1,"model":"m","observation":{"mean":[1],"cov":[[1]]},"parameters":{"\ud800":{"value":1}}}""", "parameters")]
    [InlineData("""{"type":"smoothed","stream":"s","time":1,"model":"m","observation":{"mean":[1],"cov":[[1]]},"method":"\ud800","lag":1}""", "method")]
    public void Read_StringThatIsNotUnicodeText_IsAFormatErrorNamingTheField(string json, string named)
    {
        var e = Assert.Throws<FormatException>(() => ReaderFor(null, "m").Read(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
