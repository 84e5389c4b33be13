using System.Text.Json;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Numeric times written as whole numbers beyond 2^53 (9007199254740992), the last integer a double holds exactly.
/// Before, 9007199254740993 was read as 9007199254740992: a row at that time was rejected as a conflicting duplicate of
/// a row it does not share a time with (or silently dropped as a duplicate with equal values), and 9007199254740995
/// was processed and written as 9007199254740996.
/// </summary>
public sealed class LargeNumericTimeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-time-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Nile => RepositoryFiles.Path("examples", "nile.json");

    private static (int Code, string Errors) Invoke(params string[] args) => InProcessCli.Invoke(args);

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private string Csv() => Write(
        "big.csv",
        "stream,time,volume",
        "nile,9007199254740991,1",
        "nile,9007199254740992,2",
        "nile,9007199254740993,3",
        "nile,-9007199254740995,4",
        "nile,9007199254740995.0,5");

    private string JsonLines() => Write(
        "big.jsonl",
        """{"stream":"nile","time":9007199254740991,"values":[1]}""",
        """{"stream":"nile","time":9007199254740992,"values":[2]}""",
        """{"stream":"nile","time":9007199254740993,"values":[3]}""",
        """{"stream":"nile","time":-9007199254740995,"values":[4]}""",
        """{"stream":"nile","time":9007199254740995.0,"values":[5]}""");

    [Theory]
    [InlineData("big.csv", "column 'time' '9007199254740993'")]
    [InlineData("big.jsonl", "field 'time' 9007199254740993")]
    public void Run_WholeNumberTimeBeyond2To53_IsRejectedNamingFileLineAndColumn(string name, string what)
    {
        var input = name.EndsWith(".csv", StringComparison.Ordinal) ? Csv() : JsonLines();
        var output = Path.Combine(dir, "out.jsonl");
        var deadLetters = Path.Combine(dir, "dead.jsonl");

        var (code, errors) = Invoke("run", "-m", Nile, "-i", input, "-o", output, "--dead-letters", deadLetters);

        Assert.True(code == 0, errors);
        var csv = name.EndsWith(".csv", StringComparison.Ordinal);
        var line = csv ? 4 : 3;
        Assert.Contains($"{name}:{line}: ", errors, StringComparison.Ordinal);
        Assert.Contains($"{what} is beyond 2^53 (9007199254740992)", errors, StringComparison.Ordinal);
        Assert.Contains($"{name}:{line + 1}: ", errors, StringComparison.Ordinal);
        Assert.Contains($"{name}:{line + 2}: ", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("conflicting-duplicate", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("too-late", errors, StringComparison.Ordinal);
        Assert.Contains("3 rows rejected", errors, StringComparison.Ordinal);

        var times = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("time").GetRawText()).ToList();
        Assert.Equal(["9007199254740991", "9007199254740992"], times);
        var reasons = File.ReadAllLines(deadLetters).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("reason").GetString()).ToList();
        Assert.Equal(["unparseable", "unparseable", "unparseable"], reasons);
    }

    [Fact]
    public void Run_WholeNumberTimeBeyond2To53WithOnErrorFail_StopsAtItsLineAndWritesNoOutput()
    {
        var output = Path.Combine(dir, "out.jsonl");

        var (code, errors) = Invoke("run", "-m", Nile, "-i", Csv(), "-o", output, "--on-error", "fail");

        Assert.Equal(1, code);
        Assert.Contains("big.csv:4: ", errors, StringComparison.Ordinal);
        Assert.Contains("is beyond 2^53", errors, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Run_TimesUpTo2To53AndTimesWithAnExponent_AreStillRead()
    {
        var input = Write("edge.csv", "stream,time,volume", "nile,-9007199254740992,1", "nile,9007199254740992,2", "nile,1e300,3");
        var output = Path.Combine(dir, "out.jsonl");

        var (code, errors) = Invoke("run", "-m", Nile, "-i", input, "-o", output);

        Assert.True(code == 0, errors);
        Assert.Equal(3, File.ReadAllLines(output).Length);
        Assert.Contains("0 rows rejected", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_WholeNumberTimeBeyond2To53_IsSkippedAndListedWithItsLine()
    {
        var lines = File.ReadAllLines(RepositoryFiles.Path("examples", "nile.csv")).Append("nile,9007199254740993,1100.0").ToArray();
        var input = Write("nile-big.csv", lines);
        var output = Path.Combine(dir, "fitted.json");

        var (code, errors) = Invoke("fit", "-m", Nile, "-i", input, "-o", output, "--fit", "observationNoise");

        Assert.True(code == 0, errors);
        Assert.Contains($"nile-big.csv:{lines.Length}: ", errors, StringComparison.Ordinal);
        Assert.Contains("column 'time' '9007199254740993' is beyond 2^53", errors, StringComparison.Ordinal);
        Assert.Contains("1 row of nile-big.csv skipped.", errors, StringComparison.Ordinal);
        Assert.Equal(100, JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("fit").GetProperty("observations").GetInt32());
    }
}
