using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Command lines and files chosen to break the commands: special files as outputs, blank or folder paths, model specs
/// that are not JSON or would fill the memory. Each ends with one line naming the file or field and a meaningful exit
/// code, and the inputs are left as they were.
/// </summary>
public sealed class CliHostileInputTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-hostile-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string NileCsv => RepositoryFiles.Path("examples", "nile.csv");

    private static string Nile => RepositoryFiles.Path("examples", "nile.json");

    private static (int Code, string Errors) Invoke(params string[] args) => InProcessCli.Invoke(args);

    private string Write(string name, string contents)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, contents);
        return path;
    }

    /// <summary>
    /// On a terminal (a pseudo-terminal through util-linux <c>script</c>) <c>run</c> shows a progress bar labelled with
    /// the input's file name, which Spectre.Console reads as markup.
    /// </summary>
    [SkippableFact]
    public async Task Run_OnATerminalWithMarkupAndEscapesInTheFileName_ShowsTheNameAsTextAndFinishes()
    {
        // Before: "error: Unbalanced markup stack. ... this is a bug in streamseq", exit 1 and no output, for any input
        // named like data[1].csv; an escape sequence in the name went to the terminal raw inside the bar.
        Skip.IfNot(File.Exists("/usr/bin/script"), "needs util-linux script for a pseudo-terminal");
        var input = Path.Combine(dir, "x[1]\u001b[2J.csv");
        File.Copy(NileCsv, input);
        var output = Path.Combine(dir, "o.jsonl");
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/script") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-qec", "dotnet \"$STREAMSEQ_DLL\" run -m \"$STREAMSEQ_MODEL\" -i \"$STREAMSEQ_INPUT\" -o \"$STREAMSEQ_OUTPUT\"", "/dev/null" })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["STREAMSEQ_DLL"] = Path.Combine(AppContext.BaseDirectory, "streamseq.dll");
        start.Environment["STREAMSEQ_MODEL"] = Nile;
        start.Environment["STREAMSEQ_INPUT"] = input;
        start.Environment["STREAMSEQ_OUTPUT"] = output;
        start.Environment["TERM"] = "xterm";

        using var process = System.Diagnostics.Process.Start(start)!;
        var transcript = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var text = await transcript;

        Assert.True(process.ExitCode == 0, text);
        Assert.Equal(101, File.ReadAllLines(output).Length);
        Assert.DoesNotContain("markup", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\u001b[2J", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OutputIsANamedPipe_TheRecordsGoThroughItAndItStaysAPipe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // As `-o /dev/null` or `-o /dev/stdout`: renaming a finished file over it would replace the device or pipe.
        var pipe = Path.Combine(dir, "pipe");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [pipe])!)
        {
            mkfifo.WaitForExit();
        }

        var received = Task.Run(() => File.ReadAllLinesAsync(pipe));
        var (code, errors) = Invoke("run", "-m", Nile, "-i", NileCsv, "-o", pipe);

        Assert.Equal(0, code);
        Assert.Equal(101, (await received.WaitAsync(TimeSpan.FromSeconds(60))).Length);
        Assert.DoesNotContain("error", errors, StringComparison.Ordinal);
        Assert.Equal([pipe], Directory.GetFileSystemEntries(dir));
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%F", pipe]) { RedirectStandardOutput = true })!;
        Assert.Equal("fifo", (await stat.StandardOutput.ReadToEndAsync()).Trim());
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("\t")]
    public void Run_BlankOutputPath_IsAUsageErrorNamingTheOption(string output)
    {
        var (code, errors) = Invoke("run", "-m", Nile, "-i", NileCsv, "-o", output);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal("error: --output: the path is blank.", errors.Trim());
    }

    [Fact]
    public void Run_InputOrModelIsAFolder_SaysItIsAFolder()
    {
        var (inputCode, inputErrors) = Invoke("run", "-m", Nile, "-i", dir, "-o", Path.Combine(dir, "o.jsonl"));
        var (modelCode, modelErrors) = Invoke("run", "-m", dir, "-i", NileCsv, "-o", Path.Combine(dir, "o.jsonl"));

        Assert.Equal(CliErrors.InvalidInput, inputCode);
        Assert.Equal($"error: '{dir}' is a folder, not a file.", inputErrors.Trim());
        Assert.Equal(CliErrors.InvalidInput, modelCode);
        Assert.EndsWith("is a folder, not a model file.", modelErrors.Trim(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Theory]
    [InlineData("{\"name\":\"n\",\n \"kind\": NaN}", "error: m.json: is not valid JSON at line 2, byte 10: 'N' is an invalid start of a value.")]
    [InlineData("", "error: m.json: is empty (a model spec is a JSON object with at least name and kind).")]
    [InlineData("{\"name\":\"n\",\"name\":\"m\",\"kind\":\"linear-gaussian\"}", "error: m.json: is not valid JSON: Duplicate property 'name' encountered during deserialization.")]
    public void Run_ModelThatIsNotJson_NamesTheFileOnceAndTheLineFromOne(string spec, string message)
    {
        var model = Write("m.json", spec);

        var (code, errors) = Invoke("run", "-m", model, "-i", NileCsv, "-o", Path.Combine(dir, "o.jsonl"));

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal(message, errors.Trim());
        Assert.False(File.Exists(Path.Combine(dir, "o.jsonl")));
    }

    [Theory]
    [InlineData("""{"name":"s","kind":"linear-gaussian","components":[{"type":"trigonometric-seasonal","period":1e9,"harmonics":500000,"seasonalNoise":1}],"observationNoise":[[1]]}""", "components[0].harmonics: must be at most 128")]
    [InlineData("""{"name":"s","kind":"linear-gaussian","components":[{"type":"trigonometric-seasonal","period":4000,"harmonics":100,"seasonalNoise":1},{"type":"trigonometric-seasonal","period":400,"harmonics":100,"seasonalNoise":1}],"observationNoise":[[1]]}""", "components: the components have 400 states")]
    [InlineData("""{"name":"h","kind":"hmm","initialProbabilities":[1],"transition":[[1]],"emission":{"type":"gaussian","means":[0],"variances":[1]},"viterbiWindow":2000000000}""", "viterbiWindow: must be at most 10,000,000 with 1 states")]
    [InlineData("""{"name":"b","kind":"bocpd","hazard":{"type":"constant","rate":0.01},"observation":{"type":"normal-known-variance","variance":1,"priorMean":0,"priorVariance":9},"maxRunLength":2000000000}""", "maxRunLength: must be at most 3,333,331")]
    [InlineData("""{"name":"d","kind":"anomaly-detector","marginalBins":2000000000}""", "marginalBins: must be at most 100000")]
    [InlineData("""{"name":"p","kind":"particle","particles":2000000,"intervalSmoothing":"marginal","model":{"type":"growth"}}""", "intervalSmoothing: marginal smoothing takes N² transition densities a step, so it allows at most 20,000 particles")]
    public void Run_ModelSizedToFillTheMemoryOrRunForHours_FailsAtOnceNamingTheField(string spec, string message)
    {
        var model = Write("big.json", spec);
        var before = File.ReadAllBytes(NileCsv);

        var (code, errors) = Invoke("run", "-m", model, "-i", NileCsv, "-o", Path.Combine(dir, "o.jsonl"));

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.StartsWith($"error: big.json: {message}", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("bug in streamseq", errors, StringComparison.Ordinal);
        Assert.Single(errors.Trim().Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(NileCsv));
    }

    [Fact]
    public void Run_JsonLinesWithRepeatedFieldsOrTrailingText_RejectsThoseRowsAndKeepsTheOthers()
    {
        var input = Write("in.jsonl", string.Join('\n',
            """{"stream":"a","time":1,"values":[1]}""",
            """{"stream":"a","time":2,"values":[1],"values":[900]}""",
            """{"stream":"a","stream":"b","time":3,"values":[1]}""",
            """{"stream":"a","time":4,"values":[4]} {"stream":"a","time":5,"values":[5]}""",
            """{"stream":"a","time":6,"values":[6]}""") + "\n");
        var output = Path.Combine(dir, "o.jsonl");

        var (code, errors) = Invoke("run", "-m", Nile, "-i", input, "-o", output);

        Assert.Equal(0, code);
        Assert.Contains("in.jsonl:2: unparseable: field 'values' appears twice", errors, StringComparison.Ordinal);
        Assert.Contains("in.jsonl:3: unparseable: field 'stream' appears twice", errors, StringComparison.Ordinal);
        Assert.Contains("in.jsonl:4: unparseable: invalid JSON at byte 38: '{' is invalid after a single JSON value.", errors, StringComparison.Ordinal);
        Assert.Contains("2 observations in 1 stream ", errors, StringComparison.Ordinal);
        Assert.Equal(2, File.ReadLines(output).Count());
    }

    [Theory]
    [InlineData("p.gif", "names a file that is neither .png nor .svg")]
    [InlineData("{observations}", "is an existing file that is neither .png nor .svg")]
    [InlineData("{input}", "is an existing file that is neither .png nor .svg")]
    public void Plot_OutputThatIsNeitherAnImageNorAFolder_IsAUsageErrorAndNothingIsCreated(string output, string message)
    {
        var observations = Path.Combine(dir, "nile.csv");
        File.Copy(NileCsv, observations);
        var records = Path.Combine(dir, "out.jsonl");
        Assert.Equal(0, Invoke("run", "-m", Nile, "-i", observations, "-o", records).Code);
        var before = (File.ReadAllBytes(observations), File.ReadAllBytes(records));
        var target = output.Replace("{observations}", observations, StringComparison.Ordinal).Replace("{input}", records, StringComparison.Ordinal);
        if (!Path.IsPathRooted(target))
        {
            target = Path.Combine(dir, target);
        }

        var (code, errors) = Invoke("plot", "-i", records, "--observations", observations, "-o", target);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Contains($"error: --output '{target}': {message}", errors, StringComparison.Ordinal);
        Assert.Equal(["nile.csv", "out.jsonl"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(before.Item1, File.ReadAllBytes(observations));
        Assert.Equal(before.Item2, File.ReadAllBytes(records));
    }

    [Fact]
    public void Plot_InputThatIsNotJsonLines_NamesFileLineAndByteWithoutTheParsersLineNumber()
    {
        var (code, errors) = Invoke("plot", "-i", NileCsv, "-o", Path.Combine(dir, "p.png"));

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("error: nile.csv:1: not JSON at byte 1: 's' is an invalid start of a value.", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--max-iterations 0", "error: --max-iterations: must be at least 1, got 0.")]
    [InlineData("--max-iterations -1", "error: --max-iterations: must be at least 1, got -1.")]
    [InlineData("--fit observationNoise,observationNoise", "error: --fit: 'observationNoise' is named twice.")]
    public void Fit_IterationLimitBelowOneOrAParameterNamedTwice_IsAUsageErrorAndNothingIsWritten(string options, string message)
    {
        var output = Path.Combine(dir, "fitted.json");
        var args = new List<string> { "fit", "-m", Nile, "-i", NileCsv, "-o", output };
        if (!options.StartsWith("--fit", StringComparison.Ordinal))
        {
            args.AddRange(["--fit", "observationNoise"]);
        }

        args.AddRange(options.Split(' '));

        var (code, errors) = Invoke([.. args]);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal(message, errors.Split('\n')[0]);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Generate_StreamIdWithACommaAndQuotes_IsQuotedSoRunReadsItBack()
    {
        var series = Path.Combine(dir, "g.csv");
        var output = Path.Combine(dir, "o.jsonl");

        var (code, _) = Invoke("generate", "-o", series, "--length", "5", "--stream", "pump \"7\", east");
        var (runCode, runErrors) = Invoke("run", "-m", Nile, "-i", series, "-o", output);

        Assert.Equal(0, code);
        Assert.Equal(0, runCode);
        Assert.Contains("5 observations in 1 stream ", runErrors, StringComparison.Ordinal);
        Assert.Equal("pump \"7\", east", System.Text.Json.Nodes.JsonNode.Parse(File.ReadLines(output).First())!["stream"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Generate_EmptyStreamId_IsAUsageErrorInsteadOfAFileOfRejectedRows(string stream)
    {
        var series = Path.Combine(dir, "g.csv");

        var (code, errors) = Invoke("generate", "-o", series, "--length", "5", "--stream", stream);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal("error: --stream: must not be empty.", errors.Trim());
        Assert.False(File.Exists(series));
    }

    [Theory]
    [InlineData("--epochs", "0", "error: --epochs: must be at least 1, got 0.")]
    [InlineData("--learning-rate", "-1", "error: --learning-rate: must be above 0, got -1.")]
    [InlineData("--validation-fraction", "1", "error: --validation-fraction: must be in [0, 1), got 1.")]
    public void FitBptt_TrainingSettingOutOfRange_IsAUsageErrorNamingTheOption(string option, string value, string message)
    {
        var output = Path.Combine(dir, "trained.json");

        var (code, errors) = Invoke("fit", "--method", "bptt", "-m", RepositoryFiles.Path("examples", "recurrent-nar-init.json"), "-i", RepositoryFiles.Path("examples", "recurrent-nar.csv"), "-o", output, option, value);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal(message, errors.Split('\n')[0].Trim());
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("\n\n\n")]
    [InlineData("\nstream,time,value\nnile,1,1\n")]
    public void Run_FirstLineBlank_SaysTheHeaderMustComeFirst(string contents)
    {
        var input = Write("blank.csv", contents);

        var (code, errors) = Invoke("run", "-m", Nile, "-i", input, "-o", Path.Combine(dir, "o.jsonl"));

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("blank.csv:1: the first line is blank; it must be the header 'stream,time,<values...>'.", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "--on-error", "maybe", "error: --on-error: Argument 'maybe' not recognized. Must be one of: 'skip', 'fail'")]
    [InlineData("fit", "--method", "newton", "error: --method: Argument 'newton' not recognized. Must be one of: 'mle', 'em', 'bptt'")]
    public void Option_ValueNotAmongTheChoices_NamesTheOptionAndListsThemOnTheErrorLine(string command, string option, string value, string message)
    {
        var (code, errors) = Invoke(command, "-m", Nile, "-i", NileCsv, "-o", Path.Combine(dir, "o.jsonl"), option, value);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal(message, errors.Split('\n')[0].TrimEnd());
    }

    [Theory]
    [InlineData("error: --topic: a topic name must not be empty.", "read", "--bootstrap-servers", "127.0.0.1:1", "--topic", "", "--from-beginning")]
    [InlineData("error: --changelog: '..' is not a valid topic name.", "read", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--changelog", "..", "--from-beginning")]
    [InlineData("error: --bootstrap-servers: must not be empty.", "read", "--bootstrap-servers", " ", "--topic", "t", "--from-beginning")]
    [InlineData("error: --bootstrap-servers: must not be empty.", "simulate", "--bootstrap-servers", "", "--rounds", "1")]
    [InlineData("error: --topic: 'pump 7' has the character U+0020 at position 5; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.", "simulate", "--bootstrap-servers", "127.0.0.1:1", "--topic", "pump 7", "--rounds", "1")]
    [InlineData("error: --topic 'a/b:3': 'a/b' has '/' at position 2; a topic name uses only letters a-z and A-Z, digits, '.', '_' and '-'.", "broker", "--topic", "a/b:3")]
    public void Kafka_BlankBrokerListOrATopicNameKafkaRefuses_IsAUsageErrorAtOnce(string message, params string[] args)
    {
        // Before, read with these waited for its client's 20-second connection timeout and then failed without naming the option.
        var (code, errors) = Invoke(args);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal(message, errors.Split('\n')[0].TrimEnd());
    }

    /// <summary>A NUL character in a spec's file path (recurrent weights) was an ArgumentException reported as a bug.</summary>
    [Theory]
    [InlineData("run")]
    [InlineData("fit")]
    public void Model_WeightsPathWithANulCharacter_NamesTheField(string command)
    {
        var spec = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(RepositoryFiles.Path("examples", "recurrent-nar.json")))!.AsObject();
        spec["weights"] = "nar\u0000.safetensors";
        var model = Write("nar.json", spec.ToJsonString());
        var output = Path.Combine(dir, command == "run" ? "o.jsonl" : "o.json");
        var csv = RepositoryFiles.Path("examples", "recurrent-nar.csv");

        var (code, errors) = command == "run"
            ? Invoke("run", "-m", model, "-i", csv, "-o", output)
            : Invoke("fit", "--method", "bptt", "--epochs", "1", "-m", model, "-i", csv, "-o", output);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal("error: nar.json: weights: contains a NUL character, which no file path can hold.", errors.Trim());
        Assert.False(File.Exists(output));
    }

    /// <summary>
    /// The embedded broker allocates a topic's partitions at once: --topic t:99999999 aborted the process in its
    /// allocator (exit code 134, a core dump). --topic now has --partitions' limit.
    /// </summary>
    [Fact]
    public void Broker_TopicWithMorePartitionsThanPartitionsAllows_IsAUsageError()
    {
        var e = Assert.Throws<UsageException>(() => BrokerTopic.Parse("t:99999999"));

        Assert.Equal("--topic 't:99999999': partitions must be at most 10000, not 99999999.", e.Message);
        Assert.Equal(10_000, BrokerTopic.Parse("t:10000").Partitions);
    }

    /// <summary>
    /// A CSV row or header longer than the CSV reader's limit (16 MiB less 64 KiB): before, a row made run and fit report
    /// the same row without end (never finishing), and a header ended run and detect with "this is a bug in streamseq".
    /// A row is reported once with its reason, too-large, and skipped, and the rows after it are read: detect failed the
    /// whole file at it, and fit named no reason. With --on-error fail, detect stops at it as at any rejected row.
    /// </summary>
    [Theory]
    [InlineData("run", "stream,time,volume\nnile,1,1\nnile,2,{huge}\nnile,3,3\n", "big.csv:3: too-large: row is longer than the limit of 16711680 characters.", 0)]
    [InlineData("fit", "stream,time,volume\nnile,1,1\nnile,2,{huge}\nnile,3,3\n", "big.csv:3: too-large: row is longer than the limit of 16711680 characters. (row skipped)", 0)]
    [InlineData("detect", "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,{huge}\n2020-01-01 00:10:00,3\n", "big.csv:3: too-large: row is longer than the limit of 16711680 characters.\n2 rows in 1 file scored", 0)]
    [InlineData("detect-fail", "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,{huge}\n2020-01-01 00:10:00,3\n", "error: big.csv:3: too-large: row is longer than the limit of 16711680 characters.", 1)]
    [InlineData("run", "stream,time,{huge}\nnile,1,1\n", "big.csv:1: the header is longer than the limit of 16711680 characters.", 1)]
    [InlineData("detect", "timestamp,value{huge}\n2020-01-01 00:00:00,1\n", "big.csv:1: ", 1)]
    public async Task Csv_RowOverTheReadersLimit_IsReportedOnceWithItsLine(string command, string contents, string message, int exitCode)
    {
        var input = Write("big.csv", contents.Replace("{huge}", new string('1', 17 << 20), StringComparison.Ordinal));
        var output = Path.Combine(dir, "out.json");
        string[] args = command switch
        {
            "detect" => ["detect", "-i", input, "-o", output],
            "detect-fail" => ["detect", "-i", input, "-o", output, "--on-error", "fail"],
            "fit" => ["fit", "-m", Nile, "-i", input, "-o", output, "--fit", "observationNoise"],
            _ => ["run", "-m", Nile, "-i", input, "-o", output],
        };

        var (code, errors) = await Task.Run(() => Invoke(args)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Contains(message, errors, StringComparison.Ordinal);
        Assert.Single(errors.Split('\n'), l => l.Contains("cannot read", StringComparison.Ordinal) || l.Contains("16777216", StringComparison.Ordinal) || l.Contains("16711680", StringComparison.Ordinal));
        Assert.DoesNotContain("bug in streamseq", errors, StringComparison.Ordinal);
        Assert.Equal(exitCode, code);
    }
}
