namespace StreamSeq.Estimation.Tests.Support;

/// <summary>The fixture reader is strict, so an oracle comparison cannot skip a cell that silently became NaN.</summary>
public sealed class OracleCsvTests
{
    public static TheoryData<string, string> Fixtures()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file);
            data.Add(Path.GetDirectoryName(relative)!, Path.GetFileName(relative));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Load_EveryFixture_ParsesEveryCellStrictly(string set, string file)
    {
        var csv = OracleCsv.Load(set, file);
        Assert.True(csv.RowCount > 0, $"{set}/{file} has no data rows");
    }

    [Theory]
    [InlineData("NaN", double.NaN)]
    [InlineData("nan", double.NaN)]
    [InlineData("Infinity", double.PositiveInfinity)]
    [InlineData("-Infinity", double.NegativeInfinity)]
    [InlineData("-1.5e-07", -1.5e-07)]
    [InlineData("1469.1", 1469.1)]
    [InlineData("100", 100.0)]
    public void Parse_FixtureTokens_GiveTheirValues(string cell, double expected) =>
        Assert.Equal(expected, OracleCsv.Parse(cell, "f.csv", 0, "c"));

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("NA")]
    [InlineData("inf")]
    [InlineData("True")]
    [InlineData(" 1.5")]
    [InlineData("1,5")]
    [InlineData("1.2.3")]
    [InlineData("0x10")]
    public void Parse_AnythingElse_ThrowsNamingTheCell(string cell)
    {
        var e = Assert.Throws<InvalidDataException>(() => OracleCsv.Parse(cell, "f.csv", 4, "col"));
        Assert.Contains("data row 5, column col", e.Message, StringComparison.Ordinal);
    }
}
