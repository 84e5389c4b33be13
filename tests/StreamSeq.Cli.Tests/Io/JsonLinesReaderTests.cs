using System.Text;
using StreamSeq.Cli.Io;

namespace StreamSeq.Cli.Tests.Io;

public sealed class JsonLinesReaderTests
{
    [Fact]
    public void Read_MixedLines_ReturnsRecordsAndNamesTooLongAndInvalidUtf8LinesWithTheirNumbers()
    {
        byte[] text = [.. "\uFEFF{\"a\":1}\r\n"u8, .. Encoding.ASCII.GetBytes(new string('x', 100)), (byte)'\n', .. "{\"b\":"u8, 0xFF, 0xFE, .. "}\n{\"c\":3}"u8];
        using var reader = new JsonLinesReader(new MemoryStream(text), maxLineBytes: 50);
        var seen = new List<(long Line, string? Text, string? Problem, bool TooLong)>();

        while (reader.Read(out var line, out var problem))
        {
            seen.Add((reader.Line, problem is null ? Encoding.UTF8.GetString(line) : null, problem, reader.LastLineTooLong));
        }

        Assert.Equal(4, seen.Count);
        Assert.Equal((1L, "{\"a\":1}", (string?)null, false), seen[0]);
        Assert.Equal((2L, null, "line is longer than the limit of 50 bytes.", true), (seen[1].Line, seen[1].Text, seen[1].Problem, seen[1].TooLong));
        Assert.Equal((3L, null, "line is not valid UTF-8.", false), (seen[2].Line, seen[2].Text, seen[2].Problem, seen[2].TooLong));
        Assert.Equal((4L, "{\"c\":3}", (string?)null, false), seen[3]);
    }
}
