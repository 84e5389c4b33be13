using CsCheck;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Tests.Records;

public sealed class SpellingTests
{
    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("flaw", "lawn", 2)]
    [InlineData("steram", "stream", 2)]
    [InlineData("", "values", 6)]
    [InlineData("time", "time", 0)]
    public void Distance_TextbookPairs(string a, string b, int expected)
    {
        Assert.Equal(expected, Spelling.Distance(a, b));
        Assert.Equal(expected, Spelling.Distance(b, a));
    }

    [Fact]
    public void Distance_ShortNames_EqualsTheRecursiveDefinition()
    {
        var name = Gen.String[Gen.Char["abc"], 0, 6];
        Gen.Select(name, name).Sample((a, b) => Assert.Equal(Recursive(a, b), Spelling.Distance(a, b)), iter: 2_000);
    }

    [Fact]
    public void Distance_HostileLengths_ComparesOnlyTheFirstHundredCharacters()
    {
        var a = new string('x', 1_000_000);
        var b = new string('x', Spelling.MaxCompared) + new string('y', 1_000_000);
        Assert.Equal(0, Spelling.Distance(a, b));
    }

    // The definition itself: the last characters are matched, or one of them is dropped.
    private static int Recursive(string a, string b)
    {
        if (a.Length == 0)
        {
            return b.Length;
        }

        if (b.Length == 0)
        {
            return a.Length;
        }

        var match = Recursive(a[..^1], b[..^1]) + (a[^1] == b[^1] ? 0 : 1);
        return Math.Min(match, Math.Min(Recursive(a[..^1], b), Recursive(a, b[..^1])) + 1);
    }
}
