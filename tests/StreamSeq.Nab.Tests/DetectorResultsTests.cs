using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class DetectorResultsTests
{
    private static NabCorpus LoadCorpus(TempFolder folder) =>
        NabCorpus.Load(Path.Combine(folder.Path, "data"), Path.Combine(folder.Path, "labels/combined_windows.json"));

    [Fact]
    public void ResultsPath_FollowsNabLayout()
    {
        var path = DetectorResults.ResultsPath("/r", "numenta", "realKnownCause/nyc_taxi.csv");

        Assert.Equal(Path.Combine("/r", "numenta", "realKnownCause", "numenta_nyc_taxi.csv"), path);
    }

    [Fact]
    public void Load_SyntheticFolder_ReadsAnomalyScores()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);

        var results = DetectorResults.Load(Path.Combine(folder.Path, "results"), "det", LoadCorpus(folder));

        Assert.Equal(Synthetic.WorkedExampleScores(), results.ScoresFor("cat/worked.csv").ToArray());
    }

    [Fact]
    public void Load_DetectorFolderItself_IsAcceptedAsRoot()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);

        var results = DetectorResults.Load(Path.Combine(folder.Path, "results", "det"), "det", LoadCorpus(folder));

        Assert.Equal(30, results.ScoresFor("quiet/flat.csv").Length);
    }

    [Fact]
    public void Load_ShortResultsFile_NamesIt()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        folder.Write("results/det/quiet/det_flat.csv", SyntheticNabFolder.ResultsCsv(new double[29]));

        var error = Assert.Throws<InvalidDataException>(() => DetectorResults.Load(Path.Combine(folder.Path, "results"), "det", LoadCorpus(folder)));

        Assert.Contains("det_flat.csv", error.Message, StringComparison.Ordinal);
        Assert.Contains("29 rows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ShiftedTimestamps_NamesTheLine()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        var text = SyntheticNabFolder.ResultsCsv(new double[30]).Replace(SyntheticNabFolder.Timestamp(4), "2021-01-01 00:00:00", StringComparison.Ordinal);
        folder.Write("results/det/quiet/det_flat.csv", text);

        var error = Assert.Throws<InvalidDataException>(() => DetectorResults.Load(Path.Combine(folder.Path, "results"), "det", LoadCorpus(folder)));

        Assert.Contains("det_flat.csv:6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NonNumericScore_NamesTheLine()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        var lines = SyntheticNabFolder.ResultsCsv(new double[30]).Split('\n');
        lines[3] = SyntheticNabFolder.Timestamp(2) + ",2,NaN";
        folder.Write("results/det/quiet/det_flat.csv", string.Join('\n', lines));

        var error = Assert.Throws<InvalidDataException>(() => DetectorResults.Load(Path.Combine(folder.Path, "results"), "det", LoadCorpus(folder)));

        Assert.Contains("det_flat.csv:4", error.Message, StringComparison.Ordinal);
        Assert.Contains("anomaly_score", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingResultsFile_NamesThePath()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);

        var error = Assert.Throws<InvalidDataException>(() => DetectorResults.Load(Path.Combine(folder.Path, "results"), "other", LoadCorpus(folder)));

        Assert.Contains("other_worked.csv", error.Message, StringComparison.Ordinal);
    }
}
