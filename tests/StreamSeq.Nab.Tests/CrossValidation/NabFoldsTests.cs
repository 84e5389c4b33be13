using StreamSeq.Nab.CrossValidation;
using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests.CrossValidation;

public sealed class NabFoldsTests
{
    private static NabCorpus Corpus() => new(
    [
        Synthetic.File("artificialNoAnomaly/a.csv", 100),
        Synthetic.File("artificialWithAnomaly/b.csv", 100, (50, 60)),
        Synthetic.File("artificialWithAnomaly/c.csv", 100, (70, 80)),
        Synthetic.File("realX/d.csv", 100, (40, 45)),
        Synthetic.File("realX/e.csv", 100, (40, 45)),
        Synthetic.File("realX/f.csv", 100),
        Synthetic.File("realY/g.csv", 100, (30, 35)),
    ]);

    [Fact]
    public void ByCategory_CategoryWithoutWindows_JoinsTheCategoryWithTheLongestCommonPrefix()
    {
        var folds = NabFolds.ByCategory(Corpus());

        Assert.Equal(["artificialWithAnomaly", "realX", "realY"], folds.Select(f => f.Name));
        Assert.Equal(["artificialNoAnomaly/a.csv", "artificialWithAnomaly/b.csv", "artificialWithAnomaly/c.csv"], folds[0].Files.Select(f => f.RelativePath));
        Assert.Equal(7, folds.Sum(f => f.Files.Count));
    }

    [Fact]
    public void ByFile_TwoFolds_DealsFilesRoundRobinWithinCategories()
    {
        var folds = NabFolds.ByFile(Corpus(), 2);

        Assert.Equal(["files 1/2", "files 2/2"], folds.Select(f => f.Name));
        Assert.Equal(["artificialNoAnomaly/a.csv", "artificialWithAnomaly/c.csv", "realX/e.csv", "realY/g.csv"], folds[0].Files.Select(f => f.RelativePath));
        Assert.Equal(["artificialWithAnomaly/b.csv", "realX/d.csv", "realX/f.csv"], folds[1].Files.Select(f => f.RelativePath));
    }

    [Fact]
    public void ByFile_FoldWithoutWindows_IsRefused()
    {
        var corpus = new NabCorpus([Synthetic.File("a/x.csv", 100, (50, 60)), Synthetic.File("a/y.csv", 100)]);

        var e = Assert.Throws<ArgumentException>(() => NabFolds.ByFile(corpus, 2));

        Assert.Contains("files 2/2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("files:1")]
    [InlineData("files:8")]
    [InlineData("files:x")]
    [InlineData("folds")]
    public void Parse_BadScheme_Throws(string scheme) =>
        Assert.Throws<ArgumentException>(() => NabFolds.Parse(scheme, Corpus()));

    [Fact]
    public void Parse_KnownSchemes_BuildTheirFolds()
    {
        Assert.Equal(3, NabFolds.Parse("category", Corpus()).Count);
        Assert.Equal(3, NabFolds.Parse("files:3", Corpus()).Count);
    }
}
