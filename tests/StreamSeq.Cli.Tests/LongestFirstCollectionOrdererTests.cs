namespace StreamSeq.Cli.Tests;

public sealed class LongestFirstCollectionOrdererTests
{
    /// <summary>A renamed or moved class would silently lose its early start: every listed class name is a test class.</summary>
    [Fact]
    public void Longest_EveryClassName_IsATestClassOfThisProject()
    {
        var classes = LongestFirstCollectionOrderer.Longest.Where(name => name.Contains('.', StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(classes);
        var missing = classes.Where(name => typeof(LongestFirstCollectionOrderer).Assembly.GetType("StreamSeq.Cli.Tests." + name) is null).ToList();
        Assert.True(missing.Count == 0, $"no such test class: {string.Join(", ", missing)}");
    }
}
