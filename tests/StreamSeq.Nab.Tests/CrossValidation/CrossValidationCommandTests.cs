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
        Assert.Contains("leave one category out (2 folds, 6 files, 4 windows), smoothed thresholds", report, StringComparison.Ordinal);
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

        // Every setting stays written out: the shipped configuration with the chosen candidate's settings over it.
        Assert.True(options.HasSameSettings(AnomalyDetectorOptions.Default with { WarmupLength = shipped == "shipped" ? 16 : 8 }));
    }

    [Fact]
    public void Run_PublishedResults_AreCrossValidatedLikeTheSameScoresFromADetectorRun()
    {
        new StreamSeq.Processing.Detection.AnomalyFileRunner().ScoreFolder(Path("data"), Path("results"), "det");
        string[] common = ["cv", "--data", Path("data"), "--labels", Path("labels/combined_windows.json"), "--profiles", Path("config/profiles.json"), "--folds", "files:2"];
        var published = new StringWriter();
        var run = new StringWriter();

        Assert.Equal(0, NabCommandLine.Run([.. common, "--results", Path("results"), "--detector", "det", "--json", Path("published.json")], published, TextWriter.Null));
        Assert.Equal(0, NabCommandLine.Run([.. common, "--json", Path("run.json")], run, TextWriter.Null));

        Assert.Contains("### Shipped configuration: det", published.ToString(), StringComparison.Ordinal);
        Assert.Equal(run.ToString().Replace("| default |", "| det |", StringComparison.Ordinal).Replace(": default", ": det", StringComparison.Ordinal).Replace("**default**", "**det**", StringComparison.Ordinal), published.ToString());
    }

    [Theory]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--detector", "numenta")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--results", "r", "--detector", "numenta", "--candidates", "c.json")]
    [InlineData(2, "cv", "--data")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--folds")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--parallel", "0")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--thresholds", "median")]
    [InlineData(2, "cv", "--data", "d", "--labels", "l", "--profiles", "p", "--selection", "luck")]
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
