using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Tests.Records;

public sealed class CsvObservationReaderTests
{
    private static List<(string Stream, double Time, double[] Values, double[] Control, long Line)> ReadAll(string text, out List<string> errors, IReadOnlyCollection<string>? control = null)
    {
        using var reader = new CsvObservationReader(new StringReader(text), "f.csv", control);
        var rows = new List<(string, double, double[], double[], long)>();
        errors = [];
        while (true)
        {
            var status = reader.Read(out var record, out var error);
            if (status == CsvReadStatus.End)
            {
                return rows;
            }

            if (status == CsvReadStatus.Error)
            {
                errors.Add(error!);
                continue;
            }

            rows.Add((record.StreamId.ToString(), record.Time.Value, record.Values.ToArray(), record.Control.ToArray(), record.Source.Offset));
        }
    }

    /// <summary>
    /// A warm reader allocates nothing per row (the CLI's run and fit read every row through it): the first half of the
    /// file warms it up, then four windows of rows are measured and the fewest bytes of one must be zero (a row that
    /// allocates does so in every window; the runtime may allocate once on the thread).
    /// </summary>
    [Fact]
    public void Read_WarmReader_AllocatesNothingPerRow()
    {
        var text = new System.Text.StringBuilder("stream,time,x,y\n");
        for (var i = 0; i < 4000; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"sensor-{i % 7},{i + 1},{i * 0.25},{(i % 3 == 0 ? "" : "1.5e-3")}\n");
        }

        using var reader = new CsvObservationReader(new StringReader(text.ToString()), "f.csv");
        var sum = 0.0;
        void ReadRows(int rows)
        {
            for (var i = 0; i < rows; i++)
            {
                // Not Assert.Equal, which allocates on every call.
                if (reader.Read(out var record, out var error) != CsvReadStatus.Record)
                {
                    Assert.Fail(error ?? "the file ended early");
                }

                sum += record.Values[0];
            }
        }

        ReadRows(2000);
        var fewest = long.MaxValue;
        for (var w = 0; w < 4; w++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            ReadRows(500);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
        Assert.True(sum > 0);
    }

    /// <summary>The most characters a row may have (its line break not counted): 16 MiB less 64 KiB.</summary>
    private const int Limit = 16_711_680;

    /// <summary>A row of exactly <paramref name="length"/> characters whose reading is 5 (spaces around a cell are trimmed).</summary>
    private static string Row(double time, int length)
    {
        var start = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"a,{time},");
        return start + new string(' ', length - start.Length - 1) + "5";
    }

    /// <summary>
    /// A row over the limit is reported with its file and line and skipped, and the rows after it are read (it ended the
    /// file before, silently dropping them); a row of exactly the limit is a row like any other, also as the last row
    /// without a line break, and the lines of the rows after a cut one stay those of the file.
    /// </summary>
    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Read_RowOverTheLimit_IsReportedWithItsLineAndTheRowsAfterItAreRead(string newline)
    {
        var text = string.Join(newline, "stream,time,v", "a,1,1", Row(2, Limit + 1), "a,3,3", Row(4, Limit), Row(5, 17 << 20), Row(6, Limit), "a,7,7", Row(8, Limit));

        var rows = ReadAll(text, out var errors);

        Assert.Equal([1.0, 3, 4, 6, 7, 8], rows.Select(r => r.Time));
        Assert.Equal([2L, 4, 5, 7, 8, 9], rows.Select(r => r.Line));
        Assert.Equal([1.0, 3, 5, 5, 7, 5], rows.Select(r => r.Values[0]));
        Assert.Equal(
            [$"f.csv:3: row is longer than the limit of {Limit} characters.", $"f.csv:6: row is longer than the limit of {Limit} characters."],
            errors);
    }

    [Fact]
    public void Read_LastRowOverTheLimitWithoutALineBreak_IsReportedAndEndsTheFile()
    {
        var rows = ReadAll("stream,time,v\na,1,1\n" + Row(2, Limit + 1), out var errors);

        Assert.Equal([1.0], rows.Select(r => r.Time));
        Assert.Equal([$"f.csv:3: row is longer than the limit of {Limit} characters."], errors);
    }

    [Fact]
    public void Read_RowOverTheLimitWithLineBreaksInAQuotedCell_TheLinesAfterItStayThoseOfTheFile()
    {
        // The quoted cell holds line breaks before and after the cut (\r\n counts as one); the row after it is on line 9.
        var huge = "a,2,\"x\r\ny\n" + new string(' ', Limit) + "\r\n\n\r\"\n";
        var rows = ReadAll("stream,time,v\na,1,1\n" + huge + "a,3,3\n", out var errors);

        Assert.Equal([1.0, 3], rows.Select(r => r.Time));
        Assert.Equal([2L, 9], rows.Select(r => r.Line));
        Assert.Single(errors);
        Assert.StartsWith($"f.csv:3: row is longer than the limit of {Limit} characters.", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_HeaderOverTheLimit_FailsOnLineOne()
    {
        var e = Assert.Throws<FormatException>(() => ReadAll("stream,time," + new string('v', Limit) + "\na,1,1\n", out _));

        Assert.Equal($"f.csv:1: the header is longer than the limit of {Limit} characters.", e.Message);
    }

    [Fact]
    public void Read_QuoteLeftOpen_TheErrorSaysTheRowRunsOnInsideAQuotedCell()
    {
        var rows = ReadAll("stream,time,v\na,1,1\na,2,\"3\na,3,3\na,4,4\n", out var errors);

        Assert.Equal([1.0], rows.Select(r => r.Time));
        var error = Assert.Single(errors);
        Assert.StartsWith("f.csv:3: column 3 ('v'): ", error, StringComparison.Ordinal);
        Assert.EndsWith("The row runs on over the next line(s) inside a quoted cell, and they are not read as rows: is a quote left open?", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NulBytes_AreRejectedNotReadAsTheNumberBeforeThem()
    {
        var rows = ReadAll("stream,time,v\na,1,1\0\na,2\0,2\na\0,3,3\na,4,4\n", out var errors);

        Assert.Equal([4.0], rows.Select(r => r.Time));
        Assert.Equal(
            ["f.csv:2: column 3 ('v'): contains a NUL byte.", "f.csv:3: column 'time' contains a NUL byte.", "f.csv:4: column 'stream' contains a NUL byte."],
            errors);
    }

    [Fact]
    public void Read_StreamIdsUpToTheLongestKey_AreTakenAndLongerOnesNamedWithTheirLine()
    {
        // The worker takes keys of up to 1,024 bytes of UTF-8 as stream ids: a file must take the same ids (a replay
        // equals the live run, and every id of a file can be replayed as a key). This reader took 512 characters.
        var longest = new string('s', 1024);
        var accented = new string('é', 512);
        var tooLong = new string('s', 1025);
        var accentedTooLong = new string('é', 513);

        var rows = ReadAll($"stream,time,v\n{longest},1,1\n{accented},1,2\n{tooLong},1,3\n{accentedTooLong},1,4\n", out var errors);

        Assert.Equal([longest, accented], rows.Select(r => r.Stream));
        Assert.Equal(
            ["f.csv:4: column 'stream' is longer than 1024 bytes in UTF-8.", "f.csv:5: column 'stream' is longer than 1024 bytes in UTF-8."],
            errors);
    }

    [Fact]
    public void Read_QuotedFieldWithLineBreak_IsOneCellAndLinesStayRight()
    {
        var rows = ReadAll("stream,time,v\n\"room\n1\",1,2.5\n\"a,b\",2,\"3\"\nc,3,4\n", out var errors);

        Assert.Empty(errors);
        Assert.Equal(["room\n1", "a,b", "c"], rows.Select(r => r.Stream));
        Assert.Equal([2.5, 3.0, 4.0], rows.Select(r => r.Values[0]));
        Assert.Equal([2L, 4L, 5L], rows.Select(r => r.Line));
    }

    [Fact]
    public void Read_NonFiniteOrTextCells_AreRejectedWithLineAndColumn()
    {
        var rows = ReadAll("stream,time,v\na,1,1e999\na,2,Infinity\na,3,-inf\na,4,abc\na,5,\na,6,NaN\na,7,1\n", out var errors);

        Assert.Equal([5.0, 6.0, 7.0], rows.Select(r => r.Time));
        Assert.Equal(4, errors.Count);
        Assert.StartsWith("f.csv:2: column 3 ('v'): '1e999'", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("f.csv:5: column 3 ('v'): 'abc' is not a number", errors[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ControlColumnNamedByCaller_IsAControlInputNotAReading()
    {
        var rows = ReadAll("stream,time,y,u\na,1,2.5,1\n", out var errors, ["u"]);

        Assert.Empty(errors);
        Assert.Equal([2.5], rows[0].Values);
        Assert.Equal([1.0], rows[0].Control);
    }

    [Fact]
    public void Constructor_UnknownControlColumn_FailsNamingIt()
    {
        var e = Assert.Throws<FormatException>(() => new CsvObservationReader(new StringReader("stream,time,y\n"), "f.csv", ["u"]));
        Assert.Contains("control column 'u'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NabTimestampColumn_IsTheTimeWhenNoColumnIsNamedTime()
    {
        var nab = ReadAll("timestamp,value\n2014-04-10 16:15:00,1.5\nx,2\n", out var errors);
        var plain = ReadAll("time,value\n2014-04-10 16:15:00,1.5\n", out _);

        Assert.Equal(plain.Select(r => (r.Stream, r.Time, r.Values.Single())), nab.Select(r => (r.Stream, r.Time, r.Values.Single())));
        Assert.Equal(["f.csv:3: column 'timestamp' 'x' is neither a number nor an ISO-8601 date-time."], errors);
    }

    [Fact]
    public void Read_TimeAndTimestampColumns_TimeIsTheTimeAndTimestampAReading()
    {
        var rows = ReadAll("time,timestamp\n5,7\n", out var errors);

        Assert.Empty(errors);
        var row = Assert.Single(rows);
        Assert.Equal(5.0, row.Time);
        Assert.Equal([7.0], row.Values);
    }

    [Fact]
    public void Constructor_NoTimeColumn_FailsSayingWhichNamesAreTaken()
    {
        var e = Assert.Throws<FormatException>(() => new CsvObservationReader(new StringReader("stream,when,y\n"), "f.csv"));
        Assert.Equal("f.csv:1: header has no 'time' column (expected 'stream,time,<values...>'; NAB's 'timestamp' is taken too).", e.Message);
    }

    /// <summary>
    /// A column before the time column is the stream column or nothing: a misspelt 'stream' (or a stream column under
    /// another name) was ignored, so every row became one stream named after the file, and several sensors' readings
    /// were filtered as one series, conflicting or out of order, with exit code 0.
    /// </summary>
    [Theory]
    [InlineData("steram,time,volume\n", "steram")]
    [InlineData("sensor,time,volume\n", "sensor")]
    [InlineData("stream,extra,time,volume\n", "extra")]
    [InlineData(",time,volume\n", "")]
    public void Constructor_ColumnBeforeTheTimeThatIsNotTheStream_FailsNamingIt(string header, string column)
    {
        var e = Assert.Throws<FormatException>(() => new CsvObservationReader(new StringReader(header + "a,1,2\n"), "f.csv"));
        Assert.StartsWith($"f.csv:1: column '{column}' comes before the time column and is not 'stream'", e.Message, StringComparison.Ordinal);
    }
}
