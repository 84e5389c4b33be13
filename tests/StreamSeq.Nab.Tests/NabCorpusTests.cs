using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class NabCorpusTests
{
    [Fact]
    public void Load_SyntheticFolder_MapsWindowsToRows()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);

        var corpus = NabCorpus.Load(Path.Combine(folder.Path, "data"), Path.Combine(folder.Path, "labels/combined_windows.json"));

        Assert.Equal(["cat/worked.csv", "quiet/flat.csv"], corpus.Files.Select(f => f.RelativePath));
        Assert.Equal(["cat", "quiet"], corpus.Categories);
        Assert.Equal(2, corpus.WindowCount);
        Assert.True(corpus.TryGetFile("cat/worked.csv", out var worked));
        Assert.Equal([10, 25], worked.WindowStartRows.ToArray());
        Assert.Equal([14, 28], worked.WindowEndRows.ToArray());
        Assert.Equal(6, worked.ProbationLength);
        Assert.Equal("worked.csv", worked.Name);
    }

    [Fact]
    public void Load_WindowTimestampNotInFile_NamesFileAndTimestamp()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        folder.Write("labels/bad.json", """{ "cat/worked.csv": [["2020-01-01 00:07:00", "2020-01-01 01:00:00"]] }""");

        var error = Assert.Throws<InvalidDataException>(() =>
            NabCorpus.Load(Path.Combine(folder.Path, "data"), Path.Combine(folder.Path, "labels/bad.json")));

        Assert.Contains("cat/worked.csv", error.Message, StringComparison.Ordinal);
        Assert.Contains("2020-01-01 00:07:00", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_LabelledFileMissing_NamesIt()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        folder.Write("labels/bad.json", """{ "cat/absent.csv": [] }""");

        var error = Assert.Throws<InvalidDataException>(() =>
            NabCorpus.Load(Path.Combine(folder.Path, "data"), Path.Combine(folder.Path, "labels/bad.json")));

        Assert.Contains("cat/absent.csv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BadTimestampInData_NamesFileAndLine()
    {
        using var folder = new TempFolder();
        folder.Write("data/a/b.csv", "timestamp,value\n2020-01-01 00:00:00,1\nyesterday,2\n");
        folder.Write("labels/w.json", """{ "a/b.csv": [] }""");

        var error = Assert.Throws<InvalidDataException>(() =>
            NabCorpus.Load(Path.Combine(folder.Path, "data"), Path.Combine(folder.Path, "labels/w.json")));

        Assert.Contains("b.csv:3", error.Message, StringComparison.Ordinal);
        Assert.Contains("yesterday", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_OverlappingWindows_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Synthetic.File("a/b.csv", 50, (10, 20), (20, 30)));

        Assert.Contains("window 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WindowEndingBeforeStart_Throws()
    {
        Assert.Throws<ArgumentException>(() => Synthetic.File("a/b.csv", 50, (20, 10)));
    }

    [Fact]
    public void Constructor_DuplicateRelativePath_Throws()
    {
        Assert.Throws<ArgumentException>(() => new NabCorpus([Synthetic.File("a/b.csv", 10), Synthetic.File("a/b.csv", 12)]));
    }
}
