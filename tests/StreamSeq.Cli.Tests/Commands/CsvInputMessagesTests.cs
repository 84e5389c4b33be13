using System.Text;
using System.Text.Json;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>What run, detect and fit say about CSV input that is not what it should be.</summary>
public sealed class CsvInputMessagesTests : IDisposable
{
    private static readonly string Nile = RepositoryFiles.Path("examples", "nile.json");
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-csv-messages-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>
    /// A cell with bytes that are not UTF-8 was reported as <c>'\uFFFD\uFFFD' is not a number</c>: the decoder's
    /// replacement characters, not what is wrong with the file. It is now said to be not valid UTF-8, with the file,
    /// line and column, in run, fit and detect alike.
    /// </summary>
    [Theory]
    [InlineData("run", "nile,1872,\xFF\xFE", "bad.csv:3: unparseable: column 3 ('volume'): is not valid UTF-8.")]
    [InlineData("run", "nile,\xFF,1160", "bad.csv:3: unparseable: column 'time' is not valid UTF-8.")]
    [InlineData("fit", "nile,1872,\xFF\xFE", "bad.csv:3: unparseable: column 3 ('volume'): is not valid UTF-8.")]
    [InlineData("detect", "2014-04-10 00:05:00,\xFF\xFE", "bad.csv:3: unparseable: column 'value': is not valid UTF-8.")]
    [InlineData("detect", "\xFF,1160", "bad.csv:3: unparseable: column 'timestamp': is not valid UTF-8.")]
    public void Command_CsvCellNotValidUtf8_IsReportedAsNotUtf8WithFileLineAndColumn(string command, string row, string expected)
    {
        var input = Path.Combine(dir, "bad.csv");
        var (header, first, last) = command == "detect"
            ? ("timestamp,value", "2014-04-10 00:00:00,1120", "2014-04-10 00:10:00,963")
            : ("stream,time,volume", "nile,1871,1120", "nile,1873,963");
        File.WriteAllBytes(input, [.. Latin1($"{header}\n{first}\n"), .. Latin1(row), .. Latin1($"\n{last}\n")]);
        var output = Path.Combine(dir, command == "fit" ? "fitted.json" : command == "detect" ? "scores.csv" : "out.jsonl");
        string[] args = command switch
        {
            "run" => ["run", "-m", Nile, "-i", input, "-o", output],
            "fit" => ["fit", "--model", Nile, "--input", input, "--fit", "observationNoise", "--output", output],
            _ => ["detect", "--input", input, "--output", output],
        };

        var (code, errors) = InProcessCli.Invoke(args);

        Assert.Equal(0, code);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
        Assert.DoesNotContain("FFFD", errors, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A rejected CSV row's dead letter had only its source and line: it now carries the row as read, as a rejected
    /// JSON Lines record's always has; a JSON Lines line that is not UTF-8 carries its bytes in base64.
    /// </summary>
    [Fact]
    public void Run_DeadLetters_CarryTheRejectedRowAsRead()
    {
        var csv = Path.Combine(dir, "bad.csv");
        File.WriteAllBytes(csv, [.. Latin1("stream,time,volume\nnile,1871,1120\nnile,1872,x\n\"nile\",1873,\xFF\n"), .. Latin1("nile,1873,\"a,b\"\n")]);
        var jsonl = Path.Combine(dir, "bad.jsonl");
        File.WriteAllBytes(jsonl, [.. Latin1("{\"stream\":\"nile\",\"time\":1,\"values\":[1]}\n{\"stream\":\"\xFF\",\"time\":2,\"values\":[1]}\n")]);
        var deadCsv = Path.Combine(dir, "dead-csv.jsonl");
        var deadJsonl = Path.Combine(dir, "dead-jsonl.jsonl");

        Assert.Equal(0, InProcessCli.Invoke("run", "-m", Nile, "-i", csv, "-o", Path.Combine(dir, "a.jsonl"), "--dead-letters", deadCsv).Code);
        Assert.Equal(0, InProcessCli.Invoke("run", "-m", Nile, "-i", jsonl, "-o", Path.Combine(dir, "b.jsonl"), "--dead-letters", deadJsonl).Code);

        var letters = File.ReadAllLines(deadCsv, Encoding.UTF8).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([3L, 4L, 5L], letters.Select(l => l.GetProperty("line").GetInt64()));
        Assert.Equal(["nile,1872,x", "\"nile\",1873,\uFFFD", "nile,1873,\"a,b\""], letters.Select(l => l.GetProperty("original").GetString()));
        var line = Assert.Single(File.ReadAllLines(deadJsonl), l => l.Contains("\"line\":2", StringComparison.Ordinal));
        var letter = JsonDocument.Parse(line).RootElement;
        Assert.False(letter.TryGetProperty("original", out _));
        Assert.Equal(Latin1("{\"stream\":\"\xFF\",\"time\":2,\"values\":[1]}"), Convert.FromBase64String(letter.GetProperty("original_base64").GetString()!));
    }

    /// <summary>
    /// A CSV file with nothing but its header (or an empty JSON Lines file) ran to "0 observations" and exit code 0
    /// without saying why: it still exits 0, as detect does for such a file, and a note says the file has no rows.
    /// </summary>
    [Theory]
    [InlineData("header.csv", "stream,time,volume\n", "note: header.csv has no rows after its header; nothing was processed.")]
    [InlineData("header.csv", "stream,time,volume\n\n  \n", "note: header.csv has no rows after its header; nothing was processed.")]
    [InlineData("empty.jsonl", "", "note: empty.jsonl has no records; nothing was processed.")]
    public void Run_FileWithoutRows_ExitsZeroWithANoteSayingSo(string name, string text, string expected)
    {
        var input = Path.Combine(dir, name);
        File.WriteAllText(input, text);

        var (code, errors) = InProcessCli.Invoke("run", "-m", Nile, "-i", input, "-o", Path.Combine(dir, "out.jsonl"));

        Assert.Equal(0, code);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
    }

    /// <summary>A file whose rows were all rejected is an error, not a file without rows: no note.</summary>
    [Fact]
    public void Run_FileWhoseRowsWereAllRejected_HasNoNoteOfAnEmptyFile()
    {
        var input = Path.Combine(dir, "bad.csv");
        File.WriteAllText(input, "stream,time,volume\nnile,1871,x\n");

        var (code, errors) = InProcessCli.Invoke("run", "-m", Nile, "-i", input, "-o", Path.Combine(dir, "out.jsonl"));

        Assert.Equal(1, code);
        Assert.DoesNotContain("note:", errors, StringComparison.Ordinal);
    }

    /// <summary>
    /// detect scores a file as one series and ignored every column but the time and the value, so a file of several
    /// streams (the bundled sensors.csv) was scored as one series mixing them: thousands of rows rejected as out of
    /// order, the rest scored against each other's readings, exit code 0. A stream column is now refused at line 1,
    /// saying how to score several streams.
    /// </summary>
    [Fact]
    public void Detect_FileWithAStreamColumn_IsRefusedAtLineOneWithoutWritingScores()
    {
        var input = Path.Combine(dir, "sensors.csv");
        File.WriteAllText(input, "stream,time,value\na,2024-03-01T00:00:00Z,1\nb,2024-03-01T00:00:00Z,50\na,2024-03-01T00:05:00Z,1.1\n");
        var output = Path.Combine(dir, "scores.csv");

        var (code, errors) = InProcessCli.Invoke("detect", "--input", input, "--output", output);

        Assert.Equal(1, code);
        Assert.Contains("sensors.csv:1: has a 'stream' column", errors, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    /// <summary>detect said <c>column 'timestamp'</c> of a time it could not read in a column headed <c>time</c>.</summary>
    [Fact]
    public void Detect_UnreadableTimeInATimeColumn_NamesTheColumnAsHeaded()
    {
        var input = Path.Combine(dir, "numbers.csv");
        File.WriteAllText(input, "time,value\n1,10\n2,11\n");

        var (code, errors) = InProcessCli.Invoke("detect", "--input", input, "--output", Path.Combine(dir, "scores.csv"));

        Assert.Equal(1, code);
        Assert.Contains("numbers.csv:2: unparseable: column 'time': '1' is not a timestamp", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("'timestamp'", errors, StringComparison.Ordinal);
    }

    private static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);
}
