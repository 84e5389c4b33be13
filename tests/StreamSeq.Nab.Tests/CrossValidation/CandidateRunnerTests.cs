using System.Globalization;
using System.Text.Json.Nodes;
using StreamSeq.Nab.CrossValidation;
using StreamSeq.Nab.Tests.Fixtures;
using StreamSeq.Processing.Detection;

namespace StreamSeq.Nab.Tests.CrossValidation;

public sealed class CandidateRunnerTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly NabCorpus corpus;

    public CandidateRunnerTests()
    {
        SyntheticNabData.Write(folder, ["catA", "catB"], filesPerCategory: 2);
        corpus = NabCorpus.Load(Data, Path.Combine(folder.Path, "labels", "combined_windows.json"));
    }

    private string Data => Path.Combine(folder.Path, "data");

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Scores_ShippedSettings_AreWhatStreamseqDetectWritesForEveryFile()
    {
        var scores = new CandidateRunner(corpus, Data).Scores(CandidateSet.Default[0]);

        foreach (var file in corpus.Files)
        {
            var written = Path.Combine(folder.Path, "out", file.Name);
            new AnomalyFileRunner().ScoreFile(Path.Combine(Data, file.RelativePath), written);
            var expected = File.ReadAllLines(written).Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture));
            Assert.Equal(expected, scores.ScoresFor(file.RelativePath).ToArray());
        }

        Assert.Equal(SyntheticNabData.SpikeRow, Array.IndexOf(scores.ScoresFor("catA/file0.csv").ToArray(), scores.ScoresFor("catA/file0.csv").ToArray().Max()));
    }

    [Fact]
    public void Scores_AValueThatIsNotANumber_IsReportedWithFileAndLine()
    {
        var path = Path.Combine(Data, "catA", "file1.csv");
        var lines = File.ReadAllLines(path);
        lines[10] = lines[10].Split(',')[0] + ",twelve";
        File.WriteAllLines(path, lines);

        var e = Assert.Throws<InvalidDataException>(() => new CandidateRunner(corpus, Data).Scores(CandidateSet.Default[0]));

        Assert.Contains("file1.csv:11: column 'value'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scores_CacheFolder_ASecondRunnerReadsTheScoresInsteadOfRunning()
    {
        var cache = Path.Combine(folder.Path, "cache");
        var first = new CandidateRunner(corpus, Data, cache, parallelism: 2);
        var computed = first.Scores(CandidateSet.Default[0]);

        var second = new CandidateRunner(corpus, Data, cache);
        var cached = second.Scores(new DetectorCandidate("same settings, other name", []));

        Assert.Equal(1, first.Runs);
        Assert.Equal(0, second.Runs);
        Assert.Single(Directory.GetFiles(cache));
        foreach (var file in corpus.Files)
        {
            Assert.Equal(computed.ScoresFor(file.RelativePath).ToArray(), cached.ScoresFor(file.RelativePath).ToArray());
        }
    }

    [Fact]
    public void Scores_OtherSettings_AreRunNotServedFromTheCache()
    {
        var cache = Path.Combine(folder.Path, "cache");
        var runner = new CandidateRunner(corpus, Data, cache);
        var shipped = runner.Scores(CandidateSet.Default[0]);

        var other = runner.Scores(new DetectorCandidate("no suppression", new JsonObject { ["suppressionWindow"] = 0 }));

        Assert.Equal(2, runner.Runs);
        Assert.NotEqual(shipped.ScoresFor("catA/file0.csv").ToArray(), other.ScoresFor("catA/file0.csv").ToArray());
    }
}
