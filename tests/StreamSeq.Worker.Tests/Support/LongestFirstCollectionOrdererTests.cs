namespace StreamSeq.Worker.Tests.Support;

public sealed class LongestFirstCollectionOrdererTests
{
    /// <summary>A renamed or moved class would silently lose its early start: every listed name is a test class.</summary>
    [Fact]
    public void Longest_EveryName_IsATestClassOfThisProject()
    {
        var missing = LongestFirstCollectionOrderer.Longest.Where(name => typeof(LongestFirstCollectionOrderer).Assembly.GetType("StreamSeq.Worker.Tests." + name) is null).ToList();
        Assert.True(missing.Count == 0, $"no such test class: {string.Join(", ", missing)}");
    }
}
