using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class NabThresholdsTests
{
    [Fact]
    public void Load_NabLayout_ReadsThresholdPerProfile()
    {
        using var folder = new TempFolder();
        var path = folder.Write("t.json", """{ "a": { "standard": { "score": 3.5, "threshold": 0.62 }, "x": { "threshold": 1 } } }""");

        var thresholds = NabThresholds.Load(path);

        Assert.Equal(0.62, thresholds.For("a")["standard"]);
        Assert.True(thresholds.TryGet("a", "x", out var x));
        Assert.Equal(1.0, x);
        Assert.False(thresholds.TryGet("b", "standard", out _));
    }

    [Fact]
    public void Load_FileWrittenByDetect_ReadsTheShippedThresholds()
    {
        using var folder = new TempFolder();
        var path = System.IO.Path.Combine(folder.Path, StreamSeq.Processing.Detection.NabThresholdsFile.FileName);
        var shipped = StreamSeq.Estimation.Detection.AnomalyDetectorOptions.Default.Thresholds;

        StreamSeq.Processing.Detection.NabThresholdsFile.Write(path, "streamseq", shipped);

        var thresholds = NabThresholds.Load(path).For("streamseq");
        Assert.Equal(shipped.Keys.Order(), thresholds.Keys.Order());
        Assert.All(shipped, p => Assert.Equal(p.Value.Threshold, thresholds[p.Key]));
        Assert.Equal(CostProfile.NabProfiles.Select(p => p.Name).Order(), thresholds.Keys.Order());
    }

    [Fact]
    public void For_UnknownDetector_SaysSo()
    {
        using var folder = new TempFolder();
        var thresholds = NabThresholds.Load(folder.Write("t.json", "{}"));

        var error = Assert.Throws<KeyNotFoundException>(() => thresholds.For("mine"));

        Assert.Contains("mine", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ThresholdNotANumber_NamesEntry()
    {
        using var folder = new TempFolder();
        var path = folder.Write("t.json", """{ "a": { "standard": { "threshold": "high" } } }""");

        var error = Assert.Throws<InvalidDataException>(() => NabThresholds.Load(path));

        Assert.Contains("a.standard", error.Message, StringComparison.Ordinal);
    }
}
