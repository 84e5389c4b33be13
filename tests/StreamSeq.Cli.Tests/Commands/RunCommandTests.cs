using StreamSeq.Testing;
using System.Text.Json;
using StreamSeq.Cli.Commands;

namespace StreamSeq.Cli.Tests.Commands;

public sealed class RunCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private (int Code, List<JsonElement> Records, string Errors) Run(string model, string input, int lag = 0, int horizon = 0, bool smooth = false, bool failFast = false, double lateness = 0)
    {
        var output = System.IO.Path.Combine(dir, "out.jsonl");
        var errors = new StringWriter();
        var code = RunCommand.Execute(model, input, output, lag, horizon, smooth, lateness, failFast, null, TextWriter.Null, errors);
        var records = File.Exists(output)
            ? File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList()
            : [];
        return (code, records, errors.ToString());
    }

    [Theory]
    [InlineData(1000, "ancestors", true)]
    [InlineData(20000, null, false)]
    [InlineData(1000, null, false)]
    [InlineData(1000, "marginal", false)]
    public void Run_SmoothParticleStreamWhosePathsCollapse_WarnsThatItsZeroVariancesAreDegeneracy(int particles, string? smoothing, bool warned)
    {
        // Ancestor tracing at 1,000 particles leaves the first 27 smoothed states of the growth example on one particle:
        // variance 3e-30 where the exact grid smoother gives 0.3 to 5. At 20,000 (above the marginal smoother's
        // limit, so traced too) the traced paths keep their spread. At 1,000 the default smooths by marginal weights,
        // which do not collapse, and the warning (only for traced streams) stays silent.
        var spec = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(RepositoryFiles.Path("examples", "particle-growth.json")))!;
        spec["particles"] = JsonSerializer.SerializeToElement(particles);
        if (smoothing is not null)
        {
            spec["intervalSmoothing"] = JsonSerializer.SerializeToElement(smoothing);
        }

        var model = System.IO.Path.Combine(dir, "growth.json");
        File.WriteAllText(model, JsonSerializer.Serialize(spec));

        var (code, records, errors) = Run(model, RepositoryFiles.Path("examples", "particle-growth.csv"), smooth: true);

        Assert.Equal(0, code);
        var variances = records.Where(r => r.GetProperty("type").GetString() == "smoothed").Select(r => r.GetProperty("state").GetProperty("cov")[0][0].GetDouble()).ToList();
        Assert.Equal(100, variances.Count);
        Assert.Equal(warned, variances.Any(v => v < 1e-20));
        Assert.Equal(warned, errors.Contains("warning: stream 'ngm-1': ", StringComparison.Ordinal));
        if (warned)
        {
            Assert.Contains($"{variances.Count(v => v < 1e-20)} of 100 fixed-interval smoothed states (the earliest at reading {variances.FindIndex(v => v < 1e-20) + 1}) trace back to a single particle", errors, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Run_SmoothStreamReinitialisedMidway_KeepsTheSmoothedStatesOfTheReadingsBeforeTheRestart()
    {
        // A reading of 1e300 leaves every particle of the growth model without weight, so step 10 re-initialises the
        // stream from its prior. The nine readings before it must still get their fixed-interval smoothed states, the
        // ones a file ending at reading 9 gives (same stream id, so the same random draws), and the restart and the
        // readings after it theirs (every later particle descends from the population the restart drew); none may be
        // lost or cross the restart.
        var (model, whole, head) = GrowthWithRestart(intervalSmoothing: null);

        static List<(int Time, double Mean, double Variance)> Smoothed(List<JsonElement> records) => records
            .Where(r => r.GetProperty("type").GetString() == "smoothed")
            .Select(r => (r.GetProperty("time").GetInt32(), r.GetProperty("state").GetProperty("mean")[0].GetDouble(), r.GetProperty("state").GetProperty("cov")[0][0].GetDouble()))
            .ToList();
        var (code, records, _) = Run(model, whole, smooth: true);
        var (headCode, headRecords, _) = Run(model, head, smooth: true);

        Assert.Equal(0, code);
        Assert.Equal(0, headCode);
        Assert.Contains("reinitialized", records.Single(r => r.GetProperty("type").GetString() == "filtered" && r.GetProperty("time").GetInt32() == 10).GetProperty("health").EnumerateArray().Select(h => h.GetString()));
        var smoothed = Smoothed(records);
        Assert.Equal([.. Enumerable.Range(1, 30)], smoothed.Select(s => s.Time));
        Assert.All(smoothed, s => Assert.True(double.IsFinite(s.Mean) && double.IsFinite(s.Variance) && s.Variance >= 0));
        Assert.Equal(Smoothed(headRecords), smoothed.Take(9));
    }

    [Fact]
    public void Run_LagStreamReinitialisedMidway_SmoothsTheStepsBeforeTheRestartOnTheirStretch()
    {
        // As above with --lag 3: readings 7 to 9 had fewer than three later readings when step 10 re-initialised the
        // stream. They get their fixed-lag smoothed records at the restart, with the lag actually used (2, 1, 0) and the
        // states the fixed-interval smoother gives on readings 1 to 9 alone, before the restart's filtered record; the
        // restart, whose fresh particles every later one descends from, and the readings after it are smoothed with
        // lag 3 again.
        var (model, whole, head) = GrowthWithRestart(intervalSmoothing: "ancestors");

        var (code, records, _) = Run(model, whole, lag: 3);
        var (headCode, headRecords, _) = Run(model, head, smooth: true);

        Assert.Equal(0, code);
        Assert.Equal(0, headCode);
        var smoothed = records.Where(r => r.GetProperty("type").GetString() == "smoothed").ToList();
        Assert.All(smoothed, r => Assert.Equal("fixed-lag", r.GetProperty("method").GetString()));
        Assert.Equal([.. Enumerable.Range(1, 27)], smoothed.Select(r => r.GetProperty("time").GetInt32()));
        Assert.Equal([3, 3, 3, 3, 3, 3, 2, 1, 0, .. Enumerable.Repeat(3, 18)], smoothed.Select(r => r.GetProperty("lag").GetInt32()));
        var restart = records.FindIndex(r => r.GetProperty("type").GetString() == "filtered" && r.GetProperty("time").GetInt32() == 10);
        Assert.Contains("reinitialized", records[restart].GetProperty("health").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal([7, 8, 9], records.Skip(restart - 3).Take(3).Select(r => r.GetProperty("type").GetString() == "smoothed" ? r.GetProperty("time").GetInt32() : -1));
        var interval = headRecords.Where(r => r.GetProperty("type").GetString() == "smoothed").ToList();
        for (var t = 7; t <= 9; t++)
        {
            var expected = interval[t - 1].GetProperty("state");
            var actual = smoothed[t - 1].GetProperty("state");
            Assert.Equal(expected.GetProperty("mean")[0].GetDouble(), actual.GetProperty("mean")[0].GetDouble(), 1e-12);
            Assert.Equal(expected.GetProperty("cov")[0][0].GetDouble(), actual.GetProperty("cov")[0][0].GetDouble(), 1e-12);
        }
    }

    /// <summary>
    /// The particle growth model (300 particles) and two files of stream b: thirty readings of 5 sin t, with 1e300 at
    /// t = 10 (no particle keeps any weight there, so that step re-initialises the stream), and the first nine alone.
    /// </summary>
    private (string Model, string Whole, string Head) GrowthWithRestart(string? intervalSmoothing)
    {
        var spec = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(RepositoryFiles.Path("examples", "particle-growth.json")))!;
        spec["particles"] = JsonSerializer.SerializeToElement(300);
        if (intervalSmoothing is not null)
        {
            spec["intervalSmoothing"] = JsonSerializer.SerializeToElement(intervalSmoothing);
        }

        var model = System.IO.Path.Combine(dir, "growth.json");
        File.WriteAllText(model, JsonSerializer.Serialize(spec));
        var rows = Enumerable.Range(1, 30).Select(t => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"b,{t},{(t == 10 ? "1e300" : (5 * Math.Sin(t)).ToString("R", System.Globalization.CultureInfo.InvariantCulture))}")).ToList();
        var whole = System.IO.Path.Combine(dir, "whole.csv");
        var head = System.IO.Path.Combine(dir, "head.csv");
        File.WriteAllLines(whole, ["stream,time,y", .. rows]);
        File.WriteAllLines(head, ["stream,time,y", .. rows.Take(9)]);
        return (model, whole, head);
    }

    /// <summary>
    /// A row over the CSV reader's limit (16 MiB less 64 KiB) is rejected as a too-large row with its file and line, like
    /// a row with a non-number value, and the rows after it run, the last one without a line break too: before, it
    /// ended the read and the run exited 0 without the rows after it. --on-error fail stops at it with exit code 1.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Run_CsvRowOverTheLimit_IsRejectedWithItsLineAndTheRowsAfterItRun(bool failFast)
    {
        var input = System.IO.Path.Combine(dir, "big.csv");
        File.WriteAllText(input, "stream,time,volume\nnile,1,1120\nnile,2," + new string('1', 17 << 20) + "\nnile,3,x\nnile,4,963\nnile,5,1210");
        var output = System.IO.Path.Combine(dir, "out.jsonl");
        var errors = new StringWriter();

        var code = RunCommand.Execute(RepositoryFiles.Path("examples", "nile.json"), input, output, 0, 0, false, 0, failFast, null, TextWriter.Null, errors);

        var text = errors.ToString();
        if (failFast)
        {
            Assert.Equal(1, code);
            Assert.False(File.Exists(output));
        }
        else
        {
            Assert.Equal(0, code);
            var times = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).Select(r => r.GetProperty("time").GetInt32());
            Assert.Equal([1, 4, 5], times);
            Assert.Contains("big.csv:4: unparseable: ", text, StringComparison.Ordinal);
            Assert.Contains("3 observations in 1 stream", text, StringComparison.Ordinal);
            Assert.Contains("2 rows rejected.", text, StringComparison.Ordinal);
        }

        Assert.Contains("big.csv:3: too-large: row is longer than the limit of 16711680 characters.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SmoothKalmanStream_HasNoParticleWarning()
    {
        var (code, _, errors) = Run(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), smooth: true);

        Assert.Equal(0, code);
        Assert.DoesNotContain("warning", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_NileWithLag5_WritesFilteredAndSmoothedRecordsOfTheDesignContract()
    {
        var (code, records, errors) = Run(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), lag: 5);
        Assert.Equal(0, code);
        var filtered = records.Where(r => r.GetProperty("type").GetString() == "filtered").ToList();
        var smoothed = records.Where(r => r.GetProperty("type").GetString() == "smoothed").ToList();
        Assert.Equal(100, filtered.Count);
        Assert.Equal(95, smoothed.Count);
        var first = filtered[0];
        Assert.Equal("nile", first.GetProperty("stream").GetString());
        Assert.Equal(1871, first.GetProperty("time").GetInt32());
        Assert.Equal("nile", first.GetProperty("model").GetString());
        foreach (var part in new[] { "predicted", "observation", "state" })
        {
            Assert.Equal(1, first.GetProperty(part).GetProperty("mean").GetArrayLength());
            Assert.Equal(1, first.GetProperty(part).GetProperty("cov")[0].GetArrayLength());
        }

        // The prior N(0, 1e7) applies at the first observation: predicted = prior, observation variance = 1e7 + 15099.
        Assert.Equal(1e7, first.GetProperty("predicted").GetProperty("cov")[0][0].GetDouble());
        Assert.Equal(1e7 + 15099, first.GetProperty("observation").GetProperty("cov")[0][0].GetDouble());
        Assert.True(first.TryGetProperty("logLik", out _) && first.TryGetProperty("nis", out _));

        // The smoothed record after observation t is for t-5 and says which lag it used.
        Assert.Equal(1871, smoothed[0].GetProperty("time").GetInt32());
        Assert.Equal(5, smoothed[0].GetProperty("lag").GetInt32());
        var sixth = records.IndexOf(filtered[5]);
        Assert.Equal("smoothed", records[sixth + 1].GetProperty("type").GetString());
        Assert.Contains("100 observations in 1 stream -> ", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_SmoothFlag_AddsFixedIntervalRecordsEqualToTheLastFixedLagRows()
    {
        var (_, records, _) = Run(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), lag: 99, smooth: true);
        var interval = records.Where(r => r.TryGetProperty("method", out var m) && m.GetString() == "fixed-interval").ToList();
        var lag99 = records.Where(r => r.TryGetProperty("method", out var m) && m.GetString() == "fixed-lag").ToList();
        Assert.Equal(100, interval.Count);
        var only = Assert.Single(lag99);

        // Lag 99 on 100 observations smooths step 1 on all the data: identical to the fixed-interval result.
        Assert.Equal(interval[0].GetProperty("state").GetRawText(), only.GetProperty("state").GetRawText());
        Assert.Equal(99, interval[0].GetProperty("lag").GetInt32());
        Assert.Equal(0, interval[99].GetProperty("lag").GetInt32());
    }

    [Fact]
    public void Execute_Horizon_WritesForecastsWithMadeAtAndHorizon()
    {
        var (_, records, _) = Run(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), horizon: 3);
        var forecasts = records.Where(r => r.GetProperty("type").GetString() == "forecast").ToList();
        Assert.Equal(300, forecasts.Count);
        var last = forecasts[^1];
        Assert.Equal(1970, last.GetProperty("madeAt").GetInt32());
        Assert.Equal(1973, last.GetProperty("time").GetInt32());
        Assert.Equal(3, last.GetProperty("horizon").GetInt32());
    }

    /// <summary>With nothing processed the summary said "-> 0 records ();": the empty list of kinds is left out.</summary>
    [Fact]
    public void Execute_NothingProcessed_SummaryHasNoEmptyParentheses()
    {
        var input = System.IO.Path.Combine(dir, "header-only.csv");
        File.WriteAllLines(input, ["stream,time,volume"]);

        var (code, records, errors) = Run(RepositoryFiles.Path("examples", "nile.json"), input);

        Assert.Equal(0, code);
        Assert.Empty(records);
        Assert.Contains("0 observations in 0 streams -> 0 records; 0 duplicates dropped, 0 rows rejected.", errors.Split('\n'));
        Assert.DoesNotContain("()", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_MalformedRows_ReportedWithFileAndLineAndOtherRowsUnchanged()
    {
        var good = System.IO.Path.Combine(dir, "good.csv");
        var bad = System.IO.Path.Combine(dir, "bad.csv");
        File.WriteAllLines(good, ["stream,time,v", "a,1,1.0", "b,1,5.0", "a,2,1.5", "b,2,5.5", "a,3,2.0", "b,3,6.0"]);
        File.WriteAllLines(bad, ["stream,time,v", "a,1,1.0", "b,1,5.0", "a,2,1.5", "b,2,abc", "b,2,5.5", "a,2.5", "a,3,2.0", "b,1.5,7", "b,3,6.0", "a,3,NaN"]);
        var model = RepositoryFiles.Path("examples", "nile.json");
        var (_, goodRecords, _) = Run(model, good);
        var (code, badRecords, errors) = Run(model, bad);
        Assert.Equal(0, code);
        Assert.Contains("bad.csv:5: unparseable: column 3 ('v'): 'abc' is not a number.", errors, StringComparison.Ordinal);
        Assert.Contains("bad.csv:7: unparseable: has 2 columns, the header has 3", errors, StringComparison.Ordinal);
        Assert.Contains("bad.csv:9: too-late", errors, StringComparison.Ordinal);
        Assert.Contains("bad.csv:11: conflicting-duplicate", errors, StringComparison.Ordinal);
        Assert.Contains("0 duplicates dropped, 4 rows rejected", errors, StringComparison.Ordinal);
        Assert.Equal(
            goodRecords.Where(r => r.GetProperty("stream").GetString() == "b").Select(r => r.GetRawText()),
            badRecords.Where(r => r.GetProperty("stream").GetString() == "b").Select(r => r.GetRawText()));
    }

    [Fact]
    public void Execute_NonAsciiAndHtmlCharactersInStreamIds_AreWrittenAsThemselvesInOutputsAndDeadLetters()
    {
        // A stream id is written as the user wrote it, so searching the output for it finds it; JSON's own escapes
        // (quote, backslash) still apply, and every line still parses back to the same id.
        string[] ids = ["capteur-température", "O'Brien <pump> & co+1", "датчик-7", "say \"hi\" \\ there"];
        var input = System.IO.Path.Combine(dir, "ids.csv");
        File.WriteAllLines(input, ["stream,time,v", .. ids.Select(id => $"{Csv(id)},1,1.5")]);
        var output = System.IO.Path.Combine(dir, "out.jsonl");
        Assert.Equal(0, RunCommand.Execute(RepositoryFiles.Path("examples", "nile.json"), input, output, 0, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null));

        var text = File.ReadAllText(output, System.Text.Encoding.UTF8);
        Assert.DoesNotContain("\\u", text, StringComparison.Ordinal);
        Assert.Contains("\"stream\":\"capteur-température\"", text, StringComparison.Ordinal);
        Assert.Contains("\"stream\":\"O'Brien <pump> & co+1\"", text, StringComparison.Ordinal);
        Assert.Contains("\"stream\":\"датчик-7\"", text, StringComparison.Ordinal);
        Assert.Contains("\"stream\":\"say \\\"hi\\\" \\\\ there\"", text, StringComparison.Ordinal);
        Assert.Equal(ids, File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("stream").GetString()));

        // A rejected JSON Lines record is kept in the dead letters as it was read.
        var records = System.IO.Path.Combine(dir, "ids.jsonl");
        var bad = """{"stream":"capteur-température","time":2,"values":["x"]}""";
        File.WriteAllLines(records, ["""{"stream":"capteur-température","time":1,"values":[1]}""", bad]);
        var deadLetters = System.IO.Path.Combine(dir, "dead.jsonl");
        Assert.Equal(0, RunCommand.Execute(RepositoryFiles.Path("examples", "nile.json"), records, output, 0, 0, false, 0, false, deadLetters, TextWriter.Null, TextWriter.Null));
        var dead = File.ReadAllText(deadLetters, System.Text.Encoding.UTF8);
        Assert.Contains("capteur-température", dead, StringComparison.Ordinal);
        Assert.Equal(bad, JsonDocument.Parse(dead).RootElement.GetProperty("original").GetString());

        static string Csv(string id) => id.Contains('"', StringComparison.Ordinal) ? $"\"{id.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : id;
    }

    [Fact]
    public void Execute_OnErrorFail_StopsAtFirstBadRowWithExitCode1AndWritesNoOutput()
    {
        var bad = System.IO.Path.Combine(dir, "bad.csv");
        File.WriteAllLines(bad, ["stream,time,v", "a,1,1.0", "a,2,x", "a,3,2.0"]);
        var (code, records, errors) = Run(RepositoryFiles.Path("examples", "nile.json"), bad, failFast: true);
        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Empty(records);
        Assert.Contains("bad.csv:3", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_MalformedModel_FailsNamingFileAndField()
    {
        var model = System.IO.Path.Combine(dir, "m.json");
        File.WriteAllText(model, """{"name":"x","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1,2]],"observation":[[1]],"observationNoise":[[1]],"initialization":"diffuse"}""");
        var errors = new StringWriter();
        var code = CliErrors.Run(errors, "m.json", () => RunCommand.Execute(model, RepositoryFiles.Path("examples", "nile.csv"), System.IO.Path.Combine(dir, "o.jsonl"), 0, 0, false, 0, false, null, TextWriter.Null, errors));
        Assert.Equal(1, code);
        Assert.Equal("error: m.json: transitionNoise: must be 1x1, got 1x2.", errors.ToString().Trim());
    }

    /// <summary>A JSON Lines record has no Kafka key to carry its stream id: the dead letter of one without a
    /// <c>stream</c> field names that field alone (it spoke of a Kafka key before), with the hint of a misspelt one.</summary>
    [Fact]
    public void Execute_JsonLinesRecordWithoutAStreamField_DeadLetterNamesTheFieldNotAKafkaKey()
    {
        var jsonl = System.IO.Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(jsonl, ["""{"stream":"a","time":1,"values":[1.0]}""", """{"time":2,"values":[2.0]}""", """{"steram":"a","time":3,"values":[3.0]}"""]);
        var deadLetters = System.IO.Path.Combine(dir, "dead.jsonl");
        Assert.Equal(0, RunCommand.Execute(RepositoryFiles.Path("examples", "nile.json"), jsonl, System.IO.Path.Combine(dir, "out.jsonl"), 0, 0, false, 0, false, deadLetters, TextWriter.Null, TextWriter.Null));
        var dead = File.ReadAllLines(deadLetters).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, dead.Count);
        Assert.All(dead, d => Assert.Equal("missing-key", d.GetProperty("reason").GetString()));
        var messages = dead.Select(d => d.GetRawText()).ToList();
        Assert.Contains("record has no 'stream' field.", messages[0], StringComparison.Ordinal);
        Assert.Contains("record has no 'stream' field. It has field 'steram'", messages[1], StringComparison.Ordinal);
        Assert.All(messages, m => Assert.DoesNotContain("Kafka", m, StringComparison.Ordinal));
    }

    [Fact]
    public void Execute_JsonLinesInput_GivesSameRecordsAsCsv()
    {
        var csv = System.IO.Path.Combine(dir, "in.csv");
        var jsonl = System.IO.Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(csv, ["stream,time,v", "a,1,1.0", "a,2,", "a,3,2.5", "b,1,4"]);
        File.WriteAllLines(jsonl, ["""{"stream":"a","time":1,"values":[1.0]}""", """{"stream":"a","time":2,"values":[null]}""", """{"stream":"a","time":3,"values":[2.5]}""", """{"stream":"b","time":1,"values":[4]}"""]);
        var model = RepositoryFiles.Path("examples", "nile.json");
        var (_, fromCsv, _) = Run(model, csv, lag: 1);
        var (_, fromJsonl, _) = Run(model, jsonl, lag: 1);
        Assert.Equal(fromCsv.Select(r => r.GetRawText()), fromJsonl.Select(r => r.GetRawText()));
        Assert.Equal(JsonValueKind.Null, fromCsv[1].GetProperty("logLik").ValueKind);
    }
}
