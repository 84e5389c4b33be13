using System.CommandLine;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>The command line as a user meets it: exit codes, one-line errors, and files that are never destroyed.</summary>
public sealed class CliSafetyTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-safety-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Nile => RepositoryFiles.Path("examples", "nile.json");

    private (int Code, string Errors) Invoke(params string[] args)
    {
        var errors = new StringWriter();
        var code = Task.Run(() => CliInvocation.RunAsync(CliCommands.Root(TextWriter.Null, errors, () => Stream.Null), args, TextWriter.Null, errors)).Result;
        return (code, errors.ToString());
    }

    /// <summary>
    /// Found by fuzzing <c>--client</c> (CliParserFuzzTests, seed 69cV-4zmZWu1): an argument starting with @ named a
    /// response file, which the parser read; a folder, an unreadable file or a name with a NUL character made it throw,
    /// and the process ended with an unhandled exception and a core dump (exit code 134). Response files are off now
    /// (AtSignArgumentTests): such an argument is the option's value, here a --client entry that is not key=value.
    /// </summary>
    [Fact]
    public void Invoke_ClientEntryStartingWithAtNamingAFolderOrANulCharacter_IsAUsageErrorNamingTheEntry()
    {
        foreach (var file in new[] { "@" + dir, "@\u0006<\u0000x" })
        {
            var (code, errors) = Invoke("read", "--bootstrap-servers", "localhost:1", "--topic", "t", "--client", file);

            Assert.Equal(CliErrors.Usage, code);
            Assert.StartsWith("error: --client '@", errors, StringComparison.Ordinal);
            Assert.DoesNotContain(errors, c => char.IsControl(c) && c is not '\n' and not '\r');
        }
    }

    /// <summary>
    /// A missing model file used to be reported by its bare name ("nope.json: model file not found."), while a missing
    /// input gave its full path: the folder it was looked for in is what tells a wrong working directory.
    /// </summary>
    [Theory]
    [InlineData("run")]
    [InlineData("fit")]
    [InlineData("detect")]
    public void Invoke_MissingModelFile_NamesTheFullPathItWasLookedFor(string command)
    {
        var model = Path.Combine(dir, "nope.json");
        var input = RepositoryFiles.Path("examples", command == "detect" ? "nab-detector.csv" : "nile.csv");
        var (code, errors) = Invoke(command, "--model", model, "--input", input, "--output", Path.Combine(dir, command == "detect" ? "o.csv" : "o.json"));

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: model file not found: {model}", errors.Trim());
    }

    private string Copy(string name, string source)
    {
        var path = Path.Combine(dir, name);
        File.Copy(source, path);
        return path;
    }

    [Theory]
    [InlineData("--lag", "abc", "--lag: 'abc' is not a whole number.")]
    [InlineData("--horizon", "1.5", "--horizon: '1.5' is not a whole number.")]
    [InlineData("--allowed-lateness", "NaN", "--allowed-lateness: 'NaN' is not a finite number.")]
    [InlineData("--lag", "-1", "--lag: must be at least 0, got -1.")]
    [InlineData("--max-time-skew", "0", "--max-time-skew: must be above 0, got 0.")]
    [InlineData("--horizon", "99999999999", "--horizon: 99999999999 is above the limit of 1000 (the worker's).")]
    [InlineData("--lag", "2147483648", "--lag: 2147483648 is above the limit of 1000 (the worker's).")]
    [InlineData("--lag", "-99999999999", "--lag: must be at least 0, got -99999999999.")]
    public void Run_BadOptionValue_IsAUsageErrorOfOneLineNamingTheOption(string option, string value, string message)
    {
        var (code, errors) = Invoke("run", "-m", Nile, "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", Path.Combine(dir, "o.jsonl"), option, value);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal($"error: {message}", errors.Split('\n')[0]);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "o.jsonl")));
    }

    [Theory]
    [InlineData("detect --parallel abc", "--parallel: 'abc' is not a whole number.")]
    [InlineData("detect --parallel 0", "--parallel: must be at least 1, got 0.")]
    [InlineData("simulate --streams 0 -o s.csv", "--streams: must be between 1 and 10000000, got 0.")]
    [InlineData("simulate --fault-rate 2 -o s.csv", "--fault-rate: must be at most 1, got 2.")]
    [InlineData("generate --length x -o g.csv", "--length: 'x' is not a whole number.")]
    [InlineData("plot --width 5 -i x.jsonl -o p.png", "--width: must be between 100 and 20000, got 5.")]
    // These options had the parser's own message, which named a .NET type ("as expected type 'System.UInt64'"); an
    // infinite --clip-norm trained to the end and then failed as a bug, writing infinity into the fitted spec.
    [InlineData("generate --seed -5 -o g.csv", "--seed: must be between 0 and 18446744073709551615, got -5.")]
    [InlineData("generate --seed abc -o g.csv", "--seed: 'abc' is not a whole number.")]
    [InlineData("simulate --seed 1.5 -o s.csv", "--seed: '1.5' is not a whole number.")]
    [InlineData("broker --port abc", "--port: 'abc' is not a whole number.")]
    [InlineData("fit --seed 18446744073709551616", "--seed: must be between 0 and 18446744073709551615, got 18446744073709551616.")]
    [InlineData("fit --clip-norm 1e400", "--clip-norm: '1e400' is not a finite number.")]
    [InlineData("fit --clip-norm -1", "--clip-norm: must be at least 0, got -1.")]
    [InlineData("fit --epochs 1e400", "--epochs: '1e400' is not a whole number.")]
    [InlineData("fit --learning-rate 0", "--learning-rate: must be above 0, got 0.")]
    [InlineData("fit --chunk-length 99999999999", "--chunk-length: must be between 1 and 2147483647, got 99999999999.")]
    [InlineData("fit --patience 0", "--patience: must be at least 1, got 0.")]
    public void Invoke_BadOptionValue_IsAUsageErrorNotACrash(string commandLine, string message)
    {
        var args = commandLine.Split(' ').ToList();
        if (args[0] == "detect")
        {
            args.AddRange(["-i", RepositoryFiles.Path("examples", "nab-detector.csv"), "-o", Path.Combine(dir, "d.csv")]);
        }
        else if (args[0] == "fit")
        {
            args.AddRange(["-m", RepositoryFiles.Path("examples", "recurrent-nar-init.json"), "-i", RepositoryFiles.Path("examples", "recurrent-nar.csv"), "-o", Path.Combine(dir, "f.json")]);
        }

        var (code, errors) = Invoke([.. args]);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Contains($"error: {message}", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
    }

    /// <summary>
    /// An empty file name was converted by the parser, whose message named a .NET type ("as expected type
    /// 'System.IO.FileInfo'"), or (detect and plot --output, plain text options) reached the command and ended as a
    /// bug report.
    /// </summary>
    [Theory]
    [InlineData("run|-m|{nile}|-i||-o|o.jsonl", "error: --input: must not be empty (a file name).")]
    [InlineData("run|-m||-i|{nile}|-o|o.jsonl", "error: --model: must not be empty (a file name).")]
    [InlineData("run|-m|{nile}|-i|{nile}|-o|o.jsonl|--dead-letters|", "error: --dead-letters: must not be empty (a file name).")]
    [InlineData("detect|-i||-o|d.csv", "error: --input: must not be empty (a file name).")]
    [InlineData("detect|-i|{nile}|-o|", "error: --output: must not be empty.")]
    [InlineData("plot|-i|{nile}|-o|", "error: --output: must not be empty.")]
    public void Invoke_EmptyPath_IsAUsageErrorNamingTheOption(string commandLine, string message)
    {
        var args = commandLine.Replace("{nile}", RepositoryFiles.Path("examples", "nile.csv"), StringComparison.Ordinal).Split('|')
            .Select(a => a.EndsWith(".csv", StringComparison.Ordinal) || a.EndsWith(".jsonl", StringComparison.Ordinal) ? Path.Combine(dir, a) : a)
            .ToArray();

        var (code, errors) = Invoke(args);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal(message, errors.Split('\n')[0].Trim());
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    /// <summary>
    /// '-' is standard output for run --output only; elsewhere it wrote a file named '-' in the current folder (plot: a
    /// folder of that name) while the user looked for the output on the terminal.
    /// </summary>
    [Theory]
    [InlineData("--output", "fit -m {model} -i {input} --fit observationNoise -o -")]
    [InlineData("--output", "detect -i {nab} -o -")]
    [InlineData("--output", "plot -i {records} -o -")]
    [InlineData("--output", "generate --length 3 -o -")]
    [InlineData("--latent-output", "generate --length 3 -o {dir}/g.csv --latent-output -")]
    [InlineData("--output", "simulate --rounds 1 -o -")]
    [InlineData("--dead-letters", "run -m {model} -i {input} -o - --dead-letters -")]
    [InlineData("--parameters-out", "run -m {model} -i {input} -o {dir}/o.jsonl --parameters-out -")]
    public void Invoke_DashForAnOutputOnlyAFileCanTake_IsAUsageErrorAndNoFileNamedDashIsWritten(string option, string commandLine)
    {
        var records = Path.Combine(dir, "records.jsonl");
        File.WriteAllText(records, "{}\n");
        var args = commandLine.Replace("{model}", Nile, StringComparison.Ordinal).Replace("{input}", RepositoryFiles.Path("examples", "nile.csv"), StringComparison.Ordinal)
            .Replace("{nab}", RepositoryFiles.Path("examples", "nab-detector.csv"), StringComparison.Ordinal).Replace("{records}", records, StringComparison.Ordinal)
            .Replace("{dir}", dir, StringComparison.Ordinal).Split(' ');

        var (code, errors) = Invoke(args);

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal($"error: {option}: '-' (standard output) is only for run --output; give a file name here ('./-' for a file named '-').", errors.Split('\n')[0]);
        Assert.False(Path.Exists("-"));
        Assert.Equal(["records.jsonl"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    /// <summary>
    /// /dev/null as two outputs was refused as "the same file", though writing to a character device overwrites
    /// nothing (likewise /dev/stdin and /dev/stdout on a terminal, one device).
    /// </summary>
    [Theory]
    [InlineData("run -m {model} -i {input} -o /dev/null --dead-letters /dev/null")]
    [InlineData("generate --length 3 -o /dev/null --latent-output /dev/null")]
    public void Invoke_DevNullAsTwoOutputs_IsAccepted(string commandLine)
    {
        var args = commandLine.Replace("{model}", Nile, StringComparison.Ordinal).Replace("{input}", RepositoryFiles.Path("examples", "nile.csv"), StringComparison.Ordinal).Split(' ');

        var (code, errors) = Invoke(args);

        Assert.Equal(0, code);
        Assert.DoesNotContain("error", errors, StringComparison.Ordinal);
    }

    /// <summary>A bound longer than a TimeSpan holds (about 29,000 years) was an OverflowException reported as a bug.</summary>
    [Theory]
    [InlineData("--allowed-lateness", "1e308")]
    [InlineData("--max-time-skew", "1e308")]
    [InlineData("--allowed-lateness", "1e12")]
    public void Run_TimeBoundBeyondWhatATimeSpanHolds_IsNoBound(string option, string value)
    {
        var output = Path.Combine(dir, "o.jsonl");

        var (code, errors) = Invoke("run", "-m", Nile, "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", output, option, value);

        Assert.Equal(0, code);
        Assert.Contains("100 observations in 1 stream -> 101 records", errors, StringComparison.Ordinal);
        Assert.Equal(101, File.ReadAllLines(output).Length);
    }

    /// <summary>The README's promise for a misspelt field (its error lists every field accepted there) holds for a
    /// required field too, and the whole line reaches the terminal: the accepted fields and what the misspelling left
    /// missing are not cut off.</summary>
    [Fact]
    public void Run_MisspeltRequiredField_OneLineNamingTheMisspellingTheAcceptedFieldsAndWhatIsMissing()
    {
        var spec = Path.Combine(dir, "m.json");
        File.WriteAllText(spec, """{"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1469.1]],"observation":[[1]],"observationNoise":[[15099]],"initialMean":[0],"initialCovarianc":[[1e7]]}""");

        var (code, errors) = Invoke("run", "-m", spec, "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", Path.Combine(dir, "o.jsonl"));

        Assert.Equal(CliErrors.InvalidInput, code);
        var line = Assert.Single(errors.Trim().Split('\n'));
        Assert.StartsWith("error: m.json: initialCovarianc: is not a known field here (known: adapt, ", line, StringComparison.Ordinal);
        Assert.Contains(" initialCovariance, ", line, StringComparison.Ordinal);
        Assert.EndsWith("; initialCovariance: is required (or set \"initialization\": \"diffuse\").", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_OutputIsAFolderOrUnwritable_OneLineNamingTheOptionExit1()
    {
        var (folderCode, folderErrors) = Invoke("run", "-m", Nile, "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", dir);
        var (procCode, procErrors) = Invoke("run", "-m", Nile, "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", "/proc/streamseq-out.jsonl");

        Assert.Equal(CliErrors.InvalidInput, folderCode);
        Assert.Equal($"error: --output: cannot write '{dir}': it is a folder.", folderErrors.Trim());
        Assert.Equal(CliErrors.InvalidInput, procCode);
        Assert.StartsWith("error: --output: cannot write '/proc/streamseq-out.jsonl'", procErrors.Trim(), StringComparison.Ordinal);
        Assert.Single(procErrors.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("run -m {model} -i {input} -o {input}")]
    [InlineData("run -m {model} -i {input} -o {out} --dead-letters {input}")]
    [InlineData("run -m {model} -i {input} -o {model}")]
    [InlineData("run -m {model} -i {input} -o {hardlink}")]
    [InlineData("run -m {model} -i {symlink} -o {input}")]
    [InlineData("fit -m {model} -i {input} --fit observationNoise -o {input}")]
    [InlineData("fit -m {model} -i {input} --fit observationNoise -o {model}")]
    public void Invoke_OutputThatIsAnInput_IsRefusedAndTheInputIsUnchanged(string commandLine)
    {
        var input = Copy("nile.csv", RepositoryFiles.Path("examples", "nile.csv"));
        var model = Copy("nile.json", RepositoryFiles.Path("examples", "nile-diffuse.json"));
        var hardlink = Path.Combine(dir, "hard.csv");
        using (var ln = System.Diagnostics.Process.Start("ln", [input, hardlink])!)
        {
            ln.WaitForExit();
        }

        var symlink = Path.Combine(dir, "link.csv");
        File.CreateSymbolicLink(symlink, input);
        var before = (File.ReadAllBytes(input), File.ReadAllBytes(model));
        var args = commandLine.Replace("{model}", model, StringComparison.Ordinal).Replace("{input}", input, StringComparison.Ordinal)
            .Replace("{out}", Path.Combine(dir, "o.jsonl"), StringComparison.Ordinal).Replace("{hardlink}", hardlink, StringComparison.Ordinal)
            .Replace("{symlink}", symlink, StringComparison.Ordinal).Split(' ');

        var (code, errors) = Invoke(args);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("refusing to overwrite an input", errors, StringComparison.Ordinal);
        Assert.Single(errors.Trim().Split('\n'));
        Assert.Equal(before.Item1, File.ReadAllBytes(input));
        Assert.Equal(before.Item2, File.ReadAllBytes(model));
    }

    [Fact]
    public void Detect_OutputIsTheInput_IsRefusedAndTheInputIsUnchanged()
    {
        var input = Copy("nab.csv", RepositoryFiles.Path("examples", "nab-detector.csv"));
        var before = File.ReadAllBytes(input);

        var (code, errors) = Invoke("detect", "-i", input, "-o", input);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("refusing to overwrite an input", errors, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(input));
    }

    /// <summary>
    /// Plot into a folder names each image after its stream; an input lying in that folder under such a name was
    /// overwritten by the image (the other output checks covered only a single-file --output).
    /// </summary>
    [Theory]
    [InlineData("--observations", "nile.png", "png")]
    [InlineData("--input", "nile.svg", "svg")]
    [InlineData("--observations", "grid.png", "png", "--grid")]
    public void Plot_FolderOutputWhereAnImageWouldReplaceAnInput_IsRefusedAndTheInputIsUnchanged(string option, string name, string format, string? grid = null)
    {
        var records = Path.Combine(dir, "nile.jsonl");
        Assert.Equal(0, Invoke("run", "-m", Nile, "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", records).Code);
        var folder = Directory.CreateDirectory(Path.Combine(dir, "charts")).FullName;
        var input = Path.Combine(folder, name);
        File.Copy(option == "--input" ? records : RepositoryFiles.Path("examples", "nile.csv"), input);
        var before = File.ReadAllBytes(input);
        string[] args = option == "--input"
            ? ["plot", "-i", input, "-o", folder, "--format", format]
            : ["plot", "-i", records, "--observations", input, "-o", folder, "--format", format];

        var (code, errors) = Invoke([.. args, .. grid is null ? Array.Empty<string>() : [grid]]);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains($"is the {option} file: refusing to overwrite an input.", errors, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(input));
        Assert.Equal([name], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Run_FailingRun_LeavesTheExistingOutputAsItWas()
    {
        var output = Path.Combine(dir, "out.jsonl");
        File.WriteAllText(output, "yesterday's results\n");
        var bad = Path.Combine(dir, "bad.csv");
        File.WriteAllLines(bad, ["stream,time,v", "a,1,1.0", "a,2,oops", "a,3,2.0"]);

        var (failCode, _) = Invoke("run", "-m", Nile, "-i", bad, "-o", output, "--on-error", "fail");
        var wide = Path.Combine(dir, "wide.csv");
        File.WriteAllLines(wide, ["stream,time,v,w", "a,1,1.0,2.0"]);
        var (headerCode, headerErrors) = Invoke("run", "-m", Nile, "-i", wide, "-o", output);

        Assert.Equal(CliErrors.InvalidInput, failCode);
        Assert.Equal(CliErrors.InvalidInput, headerCode);
        Assert.Contains("wide.csv:1:", headerErrors, StringComparison.Ordinal);
        Assert.Equal("yesterday's results\n", File.ReadAllText(output));
        Assert.Equal(["bad.csv", "out.jsonl", "wide.csv"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Run_BinaryGarbageAsJsonLines_ExitsNonZeroAndEchoesNoRawBytes()
    {
        var garbage = Path.Combine(dir, "garbage.jsonl");
        var random = new Random(7);
        var bytes = new byte[4000];
        random.NextBytes(bytes);
        bytes[100] = (byte)'\n';
        "{\"stream\":\"\u001b[2J\",\"time\":\"\u001b]0;pwned\u0007\",\"values\":[1]}\n"u8.CopyTo(bytes.AsSpan(200));
        File.WriteAllBytes(garbage, bytes);

        var (code, errors) = Invoke("run", "-m", Nile, "-i", garbage, "-o", Path.Combine(dir, "o.jsonl"));

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("was rejected", errors, StringComparison.Ordinal);
        Assert.DoesNotContain(errors, c => char.IsControl(c) && c != '\n' && c != '\r');
        Assert.DoesNotContain('\uFFFD', errors);
        Assert.False(File.Exists(Path.Combine(dir, "o.jsonl")));
    }

    [Fact]
    public void Run_LagAndHorizonAboveTheWorkersLimits_AreCappedWithANote()
    {
        var output = Path.Combine(dir, "o.jsonl");

        var (code, errors) = Invoke("run", "-m", Nile, "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", output, "--lag", "1000000", "--horizon", "100000");

        Assert.Equal(0, code);
        Assert.Contains("note: --lag 1000000 is above the limit of 1000 (the worker's); using 1000.", errors, StringComparison.Ordinal);
        Assert.Contains("note: --horizon 100000 is above the limit of 1000 (the worker's); using 1000.", errors, StringComparison.Ordinal);
        Assert.Contains("no fixed-lag smoothed records", errors, StringComparison.Ordinal);
        Assert.Equal(100 + (100 * 1000) + 1, File.ReadLines(output).Count());
    }

    [Fact]
    public void Run_ConflictingDuplicateWithOnErrorFail_StopsNamingFileAndLine()
    {
        var input = Path.Combine(dir, "dup.csv");
        File.WriteAllLines(input, ["stream,time,v", "a,1,1.0", "a,2,1.5", "a,2,1.5", "a,3,2.0", "a,3,9.0", "a,4,2.5"]);

        var (skipCode, skipErrors) = Invoke("run", "-m", Nile, "-i", input, "-o", Path.Combine(dir, "skip.jsonl"));
        var (failCode, failErrors) = Invoke("run", "-m", Nile, "-i", input, "-o", Path.Combine(dir, "fail.jsonl"), "--on-error", "fail");

        Assert.Equal(0, skipCode);
        Assert.Contains("dup.csv:6: conflicting-duplicate:", skipErrors, StringComparison.Ordinal);
        Assert.Contains("1 duplicate dropped, 1 row rejected", skipErrors, StringComparison.Ordinal);
        Assert.Equal(4, File.ReadLines(Path.Combine(dir, "skip.jsonl")).Count());
        Assert.Equal(CliErrors.InvalidInput, failCode);
        Assert.Contains("dup.csv:6: conflicting-duplicate:", failErrors, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ControlColumnByName_IsUsedAndAnUnnamedExtraColumnIsAClearError()
    {
        var model = Path.Combine(dir, "controlled.json");
        File.WriteAllText(model, """
            {"name":"heater","kind":"linear-gaussian","transition":[[0.9]],"control":[[0.5]],"transitionNoise":[[0.1]],
             "observation":[[1]],"observationNoise":[[0.2]],"initialMean":[20],"initialCovariance":[[1]]}
            """);
        var input = Path.Combine(dir, "heater.csv");
        File.WriteAllLines(input, ["stream,time,y,u", "room,1,20.1,1", "room,2,20.6,1", "room,3,20.4,0"]);

        var (plainCode, plainErrors) = Invoke("run", "-m", model, "-i", input, "-o", Path.Combine(dir, "plain.jsonl"));
        var (namedCode, namedErrors) = Invoke("run", "-m", model, "-i", input, "-o", Path.Combine(dir, "named.jsonl"), "--control", "u");

        Assert.Equal(CliErrors.InvalidInput, plainCode);
        Assert.Equal("error: heater.csv:1: the header has 2 value columns (y, u) but model 'heater' observes 1. If some of them are control inputs, name them with --control (or start their names with control_).", plainErrors.Trim());
        Assert.Equal(0, namedCode);
        Assert.Contains("3 observations in 1 stream", namedErrors, StringComparison.Ordinal);
    }

    /// <summary>
    /// --control naming the stream or time column, or given with a JSON Lines input (whose records carry a 'control'
    /// field), was silently ignored and the run went on as if no control input had been named.
    /// </summary>
    [Theory]
    [InlineData("nile.csv", "time", CliErrors.InvalidInput, "error: nile.csv:1: control column 'time' is the time column, not a control input.")]
    [InlineData("nile.csv", "stream", CliErrors.InvalidInput, "error: nile.csv:1: control column 'stream' is the stream column, not a control input.")]
    [InlineData("nile.jsonl", "u", CliErrors.Usage, "error: --control: names CSV columns, and nile.jsonl is JSON Lines, whose records carry control inputs in their 'control' field.")]
    public void Run_ControlNamingTheStreamOrTimeColumnOrWithJsonLines_IsAnErrorNotIgnored(string inputName, string control, int exitCode, string message)
    {
        var input = Path.Combine(dir, inputName);
        File.WriteAllText(input, inputName.EndsWith(".csv", StringComparison.Ordinal) ? "stream,time,volume\nnile,1,1120\n" : "{\"stream\":\"nile\",\"time\":1,\"values\":[1120]}\n");
        var output = Path.Combine(dir, "o.jsonl");

        var (code, errors) = Invoke("run", "-m", Nile, "-i", input, "-o", output, "--control", control);

        Assert.Equal(exitCode, code);
        Assert.Equal(message, errors.Trim());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Run_NonFiniteCells_AreRejectedNotReadAsMissing()
    {
        var input = Path.Combine(dir, "inf.csv");
        File.WriteAllLines(input, ["stream,time,v", "a,1,1.0", "a,2,1e999", "a,3,Infinity", "a,4,-inf", "a,5,", "a,6,NaN"]);

        var (code, errors) = Invoke("run", "-m", Nile, "-i", input, "-o", Path.Combine(dir, "o.jsonl"));

        Assert.Equal(0, code);
        Assert.Contains("inf.csv:3: unparseable: column 3 ('v'): '1e999'", errors, StringComparison.Ordinal);
        Assert.Contains("inf.csv:4: unparseable: column 3 ('v'): 'Infinity' is not a finite number", errors, StringComparison.Ordinal);
        Assert.Contains("inf.csv:5: unparseable: column 3 ('v'): '-inf' is not a finite number", errors, StringComparison.Ordinal);
        Assert.Contains("3 observations in 1 stream", errors, StringComparison.Ordinal);
    }

    /// <summary>
    /// File names and stream ids holding an escape sequence, a C1 CSI, a bidi override and a newline followed by a
    /// forged error, echoed by row messages, notes and closing lines on stderr: every line stays one line of text.
    /// </summary>
    [Fact]
    public void Invoke_HostileFileNamesAndStreamIds_EveryStderrLineIsOneLineWithControlsEscaped()
    {
        // Before: fit's row messages (wrong dimension, conflicting duplicate, time going backwards) and the closing
        // lines of fit, run, simulate, generate and plot printed names raw: the escape sequences reached the terminal
        // and the newline split a message, its second half reading "error: forged".
        const string Hostile = "\u001b]0;pwned\u0007\u009b2J\u202E\nerror: forged";
        var input = Path.Combine(dir, "in" + Hostile + ".csv");
        var stream = "s\u001b[2J\u009b\u202E";
        File.WriteAllLines(input, ["stream,time,volume", $"{stream},1,1120", $"{stream},2,1160", $"{stream},2,999", $"{stream},1,1000", $"{stream},3,963", $"{stream},4,1210", "other,1,x"]);
        var runOutput = Path.Combine(dir, "run" + Hostile + ".jsonl");

        var runs = new[]
        {
            Invoke("fit", "-m", RepositoryFiles.Path("examples", "nile-diffuse.json"), "-i", input, "--fit", "observationNoise", "-o", Path.Combine(dir, "fit" + Hostile + ".json")),
            Invoke("run", "-m", Nile, "-i", input, "-o", runOutput),
            Invoke("plot", "-i", runOutput, "--observations", input, "-o", Path.Combine(dir, "plots" + Hostile)),
            Invoke("simulate", "--streams", "1", "--rounds", "2", "-o", Path.Combine(dir, "sim" + Hostile + ".jsonl")),
            Invoke("generate", "--length", "5", "-o", Path.Combine(dir, "gen" + Hostile + ".csv")),
        };

        foreach (var (code, errors) in runs)
        {
            Assert.True(code is 0 or 1, errors);
            Assert.Contains("\\x1B]0;pwned\\x07\\x9B2J\\u202E\\x0Aerror: forged", errors, StringComparison.Ordinal);
            foreach (var line in errors.Split('\n'))
            {
                Assert.DoesNotContain(line, c => char.IsControl(c) || Processing.Records.TerminalSafeText.IsBidiControl(c));
                Assert.False(line.StartsWith("error: forged", StringComparison.Ordinal), errors);
            }
        }
    }

    /// <summary>Option values holding an escape sequence and a newline, echoed by the usage error about them.</summary>
    [Theory]
    [InlineData("read --bootstrap-servers 127.0.0.1:1 --topic t --from-beginning --client", "a\u001b[2J\nb=1")]
    [InlineData("read --bootstrap-servers 127.0.0.1:1 --from-beginning --topic", "t\u001b[2J\nerror: forged")]
    [InlineData("read --topic t --from-beginning --bootstrap-servers", "h\u001b[2J\nerror: forged:1")]
    [InlineData("broker --topic", "t\u001b[2J\nerror: forged:2")]
    [InlineData("simulate --streams 1 -o s.csv --kinds", "t\u001b[2J\nerror: forged")]
    [InlineData("run -i x.csv -o o.jsonl --on-error", "skip\u001b[2J\nerror: forged")]
    [InlineData("run -i x.csv -o o.jsonl -m", "m\u001b[2J\nerror: forged.json")]
    [InlineData("run -m m.json -o o.jsonl --lag", "1\u001b[2J\nerror: forged")]
    public void Invoke_HostileOptionValue_TheErrorEchoesItOnOneLineEscaped(string commandLine, string value)
    {
        // Before: the parser's errors (--client, --lag, --on-error, --topic, --bootstrap-servers) turned the newline into
        // a space or ", ", so the error quoted a value other than the one given.
        var (code, errors) = Invoke([.. commandLine.Split(' '), value]);

        Assert.True(code is 1 or 2, errors);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(lines, l => l.StartsWith("error: forged", StringComparison.Ordinal) || l.Any(c => char.IsControl(c)));
        Assert.Contains(lines, l => l.Contains("\\x1B[2J\\x0A", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_RowsBreakingTheInputRules_AreReportedAndLeftOutOfTheFit()
    {
        var lines = File.ReadAllLines(RepositoryFiles.Path("examples", "nile.csv")).ToList();
        var clean = Path.Combine(dir, "clean.csv");
        File.WriteAllLines(clean, lines);
        var header = lines[0].Split(',');
        var first = lines[1].Split(',');
        var dirty = Path.Combine(dir, "dirty.csv");
        File.WriteAllLines(dirty, [.. lines.Take(2), $"{first[0]},{first[1]},{first[2]}", $"{first[0]},{first[1]},12345", $"{first[0]},1e999,1", .. lines.Skip(2).Take(3), $"{first[0]},2000,Infinity", .. lines.Skip(5)]);
        var model = RepositoryFiles.Path("examples", "nile-diffuse.json");
        var errors = new StringWriter();

        var cleanCode = FitCommand.Execute(model, clean, Path.Combine(dir, "clean.json"), ["observationNoise", "transitionNoise"], "mle", 200, 0, TextWriter.Null);
        var dirtyCode = FitCommand.Execute(model, dirty, Path.Combine(dir, "dirty.json"), ["observationNoise", "transitionNoise"], "mle", 200, 0, errors);

        Assert.Equal(3, header.Length);
        Assert.Equal(0, cleanCode);
        Assert.Equal(0, dirtyCode);
        Assert.Contains("dirty.csv:4: conflicting-duplicate", errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("dirty.csv:5: unparseable: column 'time' '1e999' is not a finite time", errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("dirty.csv:9: unparseable: column 3 ('volume'): 'Infinity' is not a finite number", errors.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("dirty.csv:3", errors.ToString(), StringComparison.Ordinal);
        Assert.Equal(
            System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "clean.json")))!["fit"]!["logLikelihood"]!.GetValue<double>(),
            System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "dirty.json")))!["fit"]!["logLikelihood"]!.GetValue<double>());
    }

    [Fact]
    public void Detect_FolderWithEmptyAndGarbageFiles_ScoresTheGoodOnesExits1AndLeavesNoEmptyResult()
    {
        var data = Path.Combine(dir, "data");
        Directory.CreateDirectory(Path.Combine(data, "a"));
        Directory.CreateDirectory(Path.Combine(data, "b"));
        File.WriteAllText(Path.Combine(data, "a", "empty.csv"), string.Empty);
        File.WriteAllBytes(Path.Combine(data, "a", "garbage.csv"), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x1B, 0x5B, 0x32, 0x4A]);
        File.Copy(RepositoryFiles.Path("examples", "nab-detector.csv"), Path.Combine(data, "b", "good.csv"));
        var results = Path.Combine(dir, "results");

        var (code, errors) = Invoke("detect", "-i", data, "-o", results);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal([Path.Combine(results, "streamseq", "b", "streamseq_good.csv")], Directory.GetFiles(results, "*", SearchOption.AllDirectories));
        // Each error begins with the file's path, so it says "(not scored)" without naming the file a second time.
        Assert.Contains("a/empty.csv:1: file is empty (expected a header 'timestamp,value'). (not scored)", errors, StringComparison.Ordinal);
        Assert.Single(errors.Split('\n'), line => line.Contains("a/garbage.csv:1: ", StringComparison.Ordinal) && line.TrimEnd().EndsWith("(not scored)", StringComparison.Ordinal));
        Assert.DoesNotContain("csv not scored", errors, StringComparison.Ordinal);
        Assert.DoesNotContain(errors, c => char.IsControl(c) && c != '\n' && c != '\r');
    }

    [Fact]
    public void Detect_NonNumberValue_IsReportedWithLineNotScoredAsZero()
    {
        var input = Path.Combine(dir, "abc.csv");
        File.WriteAllLines(input, ["timestamp,value", "2024-01-01 00:00:00,1", "2024-01-01 00:05:00,abc", "2024-01-01 00:10:00,2"]);
        var output = Path.Combine(dir, "scores.csv");

        var (code, errors) = Invoke("detect", "-i", input, "-o", output);
        var (failCode, _) = Invoke("detect", "-i", input, "-o", Path.Combine(dir, "fail.csv"), "--on-error", "fail");

        Assert.Equal(0, code);
        Assert.Contains("abc.csv:3: unparseable: column 'value': 'abc' is not a number.", errors, StringComparison.Ordinal);
        Assert.Equal(3, File.ReadLines(output).Count());
        Assert.Equal(CliErrors.InvalidInput, failCode);
        Assert.False(File.Exists(Path.Combine(dir, "fail.csv")));
    }

    [Fact]
    public async Task Invoke_UnexpectedException_OneLineWithoutStackTraceUnlessVerbose()
    {
        static RootCommand Throwing()
        {
            var command = new Command("boom");
            command.SetAction(int (_) => throw new InvalidOperationException("the unexpected"));
            return [command];
        }

        var quiet = new StringWriter();
        var loud = new StringWriter();

        var quietCode = await CliInvocation.RunAsync(Throwing(), ["boom"], TextWriter.Null, quiet);
        var loudCode = await CliInvocation.RunAsync(Throwing(), ["boom", "--verbose"], TextWriter.Null, loud);

        Assert.Equal(CliErrors.InvalidInput, quietCode);
        Assert.Single(quiet.ToString().Trim().Split('\n'));
        Assert.StartsWith("error: the unexpected (InvalidOperationException", quiet.ToString(), StringComparison.Ordinal);
        Assert.Equal(CliErrors.InvalidInput, loudCode);
        Assert.Contains("   at ", loud.ToString(), StringComparison.Ordinal);
    }
}
