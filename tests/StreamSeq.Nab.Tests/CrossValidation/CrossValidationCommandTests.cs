using System.Text.Json;
using StreamSeq.Estimation.Detection;
using StreamSeq.Estimation.Specs;
using StreamSeq.Nab.CrossValidation;
using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests.CrossValidation;

public sealed class CrossValidationCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    public CrossValidationCommandTests() => SyntheticNabData.Write(folder, ["catA", "catB", "quiet"], filesPerCategory: 2);

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Run_SyntheticCorpus_ReportsEveryFoldAndWritesTheShippedConfiguration()
    {
        var candidates = folder.Write("candidates.json", """
            {"base": {"timeUnit": "PT1S"},
             "candidates": [{"name": "shipped"}, {"name": "short warm-up", "settings": {"warmupLength": 8}}]}
            """);
        var json = System.IO.Path.Combine(folder.Path, "cv.json");
        var config = System.IO.Path.Combine(folder.Path, "shipped.json");
        var output = new StringWriter();
        var errors = new StringWriter();

        var code = NabCommandLine.Run(
            ["cv", "--data", Path("data"), "--labels", Path("labels/combined_windows.json"), "--profiles", Path("config/profiles.json"),
             "--candidates", candidates, "--folds", "category", "--json", json, "--write-config", config],
            output,
            errors);

        Assert.True(code == 0, errors.ToString());
        var report = output.ToString();
        Assert.Contains("leave one category out (2 folds, 6 files, 4 windows), bagged thresholds", report, StringComparison.Ordinal);
        Assert.Contains("| catA | 4 | 2 |", report, StringComparison.Ordinal);
        Assert.Contains("| catB | 2 | 2 |", report, StringComparison.Ordinal);
        using var result = JsonDocument.Parse(File.ReadAllText(json));
        var shipped = result.RootElement.GetProperty("shipped").GetString();
        Assert.Contains(shipped, new[] { "shipped", "short warm-up" });

        // The written configuration is a model spec whose thresholds are the in-sample ones of the report.
        var spec = ModelSpec.Load(config);
        var options = AnomalyDetectorKind.ReadOptions(spec.Reader());
        foreach (var profile in result.RootElement.GetProperty("inSample").EnumerateArray())
        {
            var name = profile.GetProperty("profile").GetProperty("name").GetString()!;
            Assert.Equal(profile.GetProperty("threshold").GetDouble(), options.Thresholds[name].Threshold);
            Assert.Equal(profile.GetProperty("score").GetDouble(), options.Thresholds[name].Score);
        }

        Assert.Equal(shipped == "shipped" ? 16 : 8, options.WarmupLength);
    }

    [Theory]
    [InlineData(2, "cv", "--data")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--folds")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--parallel", "0")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--thresholds", "median")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--colour", "red")]
    [InlineData(2, "cv", "--labels", "l", "--profiles", "p")]
    public void Run_BadUsage_ExitsWithTwo(int expected, params string[] args)
    {
        var errors = new StringWriter();

        Assert.Equal(expected, NabCommandLine.Run(args, TextWriter.Null, errors));
        Assert.Contains("usage: StreamSeq.Nab cv", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownFoldScheme_ExitsWithOneNamingIt()
    {
        var errors = new StringWriter();

        var code = NabCommandLine.Run(
            ["cv", "--data", Path("data"), "--labels", Path("labels/combined_windows.json"), "--profiles", Path("config/profiles.json"), "--folds", "halves"],
            TextWriter.Null,
            errors);

        Assert.Equal(1, code);
        Assert.Contains("Unknown fold scheme 'halves'", errors.ToString(), StringComparison.Ordinal);
    }

    private string Path(string relative) => System.IO.Path.Combine(folder.Path, relative);
}
