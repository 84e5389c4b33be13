using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Well-formed files and specs whose numbers are hostile to estimation: constant series, one reading, values near the
/// double limits, huge or tiny time steps, many readings at one time, variances starting at 0 or 1e300, --fit paths the
/// model does not have. Each command either writes finite, usable numbers or says in one line what is wrong; a
/// fitted spec always runs again.
/// </summary>
public sealed class DegenerateDataTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-degenerate-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Nile => RepositoryFiles.Path("examples", "nile.json");

    private static string NileCsv => RepositoryFiles.Path("examples", "nile.csv");

    /// <summary>Series of 100 rows for one stream ('s'), by name.</summary>
    private static string Series(string name)
    {
        var random = new Random(1);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        string Row(double time, string value) => string.Create(CultureInfo.InvariantCulture, $"s,{time:R},{value}");
        string V(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var rows = Enumerable.Range(1, 100).Select(i => name switch
        {
            "constant" => Row(i, "5"),
            "one-reading" => Row(i, i == 50 ? "7" : string.Empty),
            "single-row" => i == 1 ? Row(1, "3") : null,
            "two-rows" => i <= 2 ? Row(i, V(2 + i)) : null,
            "near-max" => Row(i, V((i % 2 == 0 ? 1 : -1) * 1e300)),
            "near-min" => Row(i, V(1e-300 * random.NextDouble())),
            "outlier-1e200" => Row(i, V(i == 50 ? 1e200 : Gauss())),
            "outlier-1e6" => Row(i, V(i == 50 ? 1e6 : Gauss())),
            "gaussian" => Row(i, V(Gauss())),
            "15th-digit" => Row(i, V(1.0 + (random.Next(10) * 1e-14))),
            "gaps-1e12" => Row(i * 1e12, V(Gauss())),
            "step-1e-9" => Row(1 + (i * 1e-9), V(Gauss())),
            "same-time" => Row(1, V(Gauss())),
            "last-differs" => Row(i, i == 100 ? "9" : "5"),
            "ties" => Row(i, V(random.Next(3))),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        }).OfType<string>();
        return "stream,time,value\n" + string.Join('\n', rows) + "\n";
    }

    private static (int Code, string Output, string Errors) Invoke(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = Task.Run(() => CliInvocation.RunAsync(CliCommands.Root(output, errors, () => Stream.Null), args, output, errors)).Result;
        return (code, output.ToString(), errors.ToString());
    }

    private string Write(string name, string contents)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, contents);
        return path;
    }

    /// <summary>The Nile local-level model with other starting variances.</summary>
    private string NileStartingAt(double observationNoise, double transitionNoise)
    {
        var spec = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Nile))!.AsObject();
        spec["observationNoise"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonArray(observationNoise));
        spec["transitionNoise"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonArray(transitionNoise));
        return Write("start.json", spec.ToJsonString());
    }

    /// <summary>Every number of a fitted spec is finite, and the spec runs again on the data.</summary>
    private JsonElement AssertUsableFit(string fitted, string data)
    {
        var root = JsonDocument.Parse(File.ReadAllText(fitted)).RootElement;
        foreach (var field in new[] { "observationNoise", "transitionNoise" })
        {
            var v = root.GetProperty(field)[0][0].GetDouble();
            Assert.True(double.IsFinite(v) && v >= 0, $"{field} = {v}");
        }

        var (code, _, errors) = Invoke("run", "-m", fitted, "-i", data, "-o", Path.Combine(dir, "again.jsonl"));
        Assert.True(code == 0, errors);
        return root;
    }

    /// <summary>Fits the Nile model's two noises to a named series by a method; returns where it wrote.</summary>
    private (string Data, string Output, int Code, string Errors) FitNileNoise(string series, string method)
    {
        var data = Write("data.csv", Series(series));
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", Nile, "-i", data, "-o", output, "--fit", "observationNoise,transitionNoise", "--method", method);
        return (data, output, code, errors);
    }

    [Theory]
    [InlineData("constant", "mle")]
    [InlineData("constant", "em")]
    [InlineData("near-min", "mle")]
    [InlineData("near-min", "em")]
    public void Fit_NoVariation_WritesANearZeroFiniteNoiseAndSaysItIsNotAnIdentifiedMaximum(string series, string method)
    {
        // The likelihood grows without bound as the noise shrinks to 0: the fit stops near 0, says so and the spec runs.
        var (data, output, code, errors) = FitNileNoise(series, method);

        Assert.True(code == 0, errors);
        Assert.Contains("(not converged to an identified maximum)", errors, StringComparison.Ordinal);
        var fitted = AssertUsableFit(output, data);
        Assert.InRange(fitted.GetProperty("observationNoise")[0][0].GetDouble(), 0, 1e-100);
        Assert.False(fitted.GetProperty("fit").GetProperty("converged").GetBoolean());
    }

    [Theory]
    [InlineData("mle")]
    [InlineData("em")]
    public void Fit_ConstantSeries_SaysEachVarianceWentToItsLowerBoundRatherThanGivingItAsAnEstimate(string method)
    {
        var (_, output, code, errors) = FitNileNoise("constant", method);

        Assert.True(code == 0, errors);
        foreach (var field in new[] { "observationNoise[0][0]", "transitionNoise[0][0]" })
        {
            Assert.Contains($"warning: {field} went to its lower bound 0 (", errors, StringComparison.Ordinal);
        }

        Assert.Contains("the log-likelihood does not increase moving it off 0 (checked at 9 values from ", errors, StringComparison.Ordinal);
        Assert.Contains("readings of about 5 in size), so the data leave no variation for it to explain", errors, StringComparison.Ordinal);
        var warnings = JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("fit").GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.Contains(warnings, w => w!.StartsWith("observationNoise[0][0] went to its lower bound 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_OrdinaryData_NoLowerBoundWarning()
    {
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", Nile, "-i", NileCsv, "-o", output, "--fit", "observationNoise,transitionNoise");

        Assert.True(code == 0, errors);
        Assert.DoesNotContain("lower bound", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("one-reading", "mle")]
    [InlineData("one-reading", "em")]
    [InlineData("single-row", "mle")]
    [InlineData("single-row", "em")]
    public void Fit_OneObservedValueForTwoParameters_SaysTheDataCannotIdentifyThem(string series, string method)
    {
        var (data, output, code, errors) = FitNileNoise(series, method);

        Assert.True(code == 0, errors);
        Assert.Contains("warning: 1 observed value for 2 free parameters: the data cannot identify the parameters", errors, StringComparison.Ordinal);
        AssertUsableFit(output, data);
    }

    /// <summary>Two bptt epochs of the bundled recurrent starting spec on a named series; returns where it wrote.</summary>
    private (string Data, string Output, int Code, string Errors) TrainTwoEpochs(string series)
    {
        var data = Write("data.csv", Series(series));
        var output = Path.Combine(dir, "trained.json");
        var (code, _, errors) = Invoke("fit", "-m", RepositoryFiles.Path("examples", "recurrent-nar-init.json"), "-i", data, "-o", output, "--seed", "1", "--epochs", "2");
        return (data, output, code, errors);
    }

    [Theory]
    [InlineData("outlier-1e200")]
    [InlineData("near-max")]
    [InlineData("constant")]
    public void FitByBptt_ReadingsWhoseSquaresOverflowOrNoVariation_WritesAFiniteNormalizationThatRunsAgain(string series)
    {
        // The normalisation's scale came from the sum of squares: one reading of 1e200 made it Infinity, and writing the
        // spec ended the command with an error reported as a bug.
        var (data, output, code, errors) = TrainTwoEpochs(series);

        Assert.True(code == 0, errors);
        Assert.DoesNotContain("bug", errors, StringComparison.Ordinal);
        var normalization = JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("normalization");
        var mean = normalization.GetProperty("mean")[0].GetDouble();
        var scale = normalization.GetProperty("scale")[0].GetDouble();
        Assert.True(double.IsFinite(mean) && double.IsFinite(scale) && scale > 0, $"mean {mean}, scale {scale}");
        var (runCode, _, runErrors) = Invoke("run", "-m", output, "-i", data, "-o", Path.Combine(dir, "again.jsonl"));
        Assert.True(runCode == 0, runErrors);
    }

    [Theory]
    [InlineData("outlier-1e200", "reading 50 of sequence 0 (1E+200) makes up 99% of the training readings' variance")]
    [InlineData("outlier-1e6", "reading 50 of sequence 0 (1E+06) makes up 99% of the training readings' variance")]
    public void FitByBptt_OneReadingSetsTheNormalization_WarnsNamingIt(string series, string expected)
    {
        // Divided by a scale one reading sets, every other reading became nearly the same number: the network learned
        // nothing from them, and the fit ended with a per-observation NLL in the hundreds and no word of why.
        var (_, output, code, errors) = TrainTwoEpochs(series);

        Assert.True(code == 0, errors);
        Assert.Contains($"warning: normalization of component 0: {expected}", errors, StringComparison.Ordinal);
        var warnings = JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("fit").GetProperty("warnings");
        Assert.Equal(1, warnings.GetArrayLength());
        Assert.Contains(expected, warnings[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("near-max")]
    [InlineData("constant")]
    [InlineData("gaussian")]
    [InlineData("ties")]
    public void FitByBptt_NoReadingDominates_NoNormalizationWarning(string series)
    {
        var (_, output, code, errors) = TrainTwoEpochs(series);

        Assert.True(code == 0, errors);
        Assert.DoesNotContain("warning", errors, StringComparison.Ordinal);
        Assert.Equal(0, JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("fit").GetProperty("warnings").GetArrayLength());
    }

    [Theory]
    [InlineData("two-rows", "mle")]
    [InlineData("two-rows", "em")]
    [InlineData("15th-digit", "mle")]
    [InlineData("15th-digit", "em")]
    [InlineData("gaps-1e12", "mle")]
    [InlineData("gaps-1e12", "em")]
    [InlineData("step-1e-9", "mle")]
    [InlineData("step-1e-9", "em")]
    [InlineData("last-differs", "mle")]
    [InlineData("last-differs", "em")]
    [InlineData("ties", "mle")]
    [InlineData("ties", "em")]
    public void Fit_SmallOrExtremeButRepresentableData_WritesAFiniteSpecThatRunsAgain(string series, string method)
    {
        var (data, output, code, errors) = FitNileNoise(series, method);

        Assert.True(code == 0, errors);
        Assert.DoesNotContain("bug", errors, StringComparison.Ordinal);
        var fitted = AssertUsableFit(output, data);
        Assert.True(double.IsFinite(fitted.GetProperty("fit").GetProperty("logLikelihood").GetDouble()));
    }

    [Theory]
    [InlineData("near-max", "mle", "fit: the starting model gives a non-finite log-likelihood on the data")]
    [InlineData("near-max", "em", "a reading lies beyond double precision from its prediction")]
    [InlineData("outlier-1e200", "mle", "fit: the starting model gives a non-finite log-likelihood on the data: reading 50 of sequence 0 has a log-likelihood of -Infinity")]
    [InlineData("outlier-1e200", "em", "a reading lies beyond double precision from its prediction")]
    public void Fit_ReadingsBeyondDoublePrecisionOfTheirPrediction_FailInOneLineAndWriteNothing(string series, string method, string expected)
    {
        var (data, output, code, errors) = FitNileNoise(series, method);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.StartsWith("error: nile.json: ", errors, StringComparison.Ordinal);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("near-max", "error: hmm-regimes.json: fit: the starting model gives reading 1 of sequence 0 zero density in every state (it lies beyond double precision from every state's emission); choose starting values closer to the data.")]
    [InlineData("outlier-1e200", "error: hmm-regimes.json: fit: the starting model gives reading 50 of sequence 0 zero density in every state (it lies beyond double precision from every state's emission); choose starting values closer to the data.")]
    public void FitHmmByEm_ReadingNoStateCanProduce_FailsNamingItInsteadOfSkippingIt(string series, string expected)
    {
        // Before: such readings were skipped, so a file of ±1e300 "fitted" with a log-likelihood of 0, exit 0, the
        // starting model written back unchanged and no warning.
        var data = Write("data.csv", Series(series));
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", RepositoryFiles.Path("examples", "hmm-regimes.json"), "-i", data, "-o", output, "--fit", "emission,transition", "--method", "em");

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal(expected, errors.Trim());
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("single-row")]
    [InlineData("near-min")]
    public void FitHmmByEm_NoVariation_WritesFiniteFlooredVariancesThatRunAgain(string series)
    {
        var data = Write("data.csv", Series(series));
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", RepositoryFiles.Path("examples", "hmm-regimes.json"), "-i", data, "-o", output, "--fit", "emission,transition,initialProbabilities", "--method", "em");

        Assert.True(code == 0, errors);
        var emission = JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("emission");
        Assert.All(emission.GetProperty("variances").EnumerateArray(), v => Assert.InRange(v.GetDouble(), 1e-12, 1e-8));
        var (again, _, runErrors) = Invoke("run", "-m", output, "-i", data, "-o", Path.Combine(dir, "again.jsonl"));
        Assert.True(again == 0, runErrors);
    }

    [Theory]
    [InlineData(0.0, 1469.1, "mle", "error: start.json: observationNoise: starts at 0 at [0][0]; a variance must start positive to be fitted on a log scale.")]
    [InlineData(15099.0, 0.0, "mle", "error: start.json: transitionNoise: starts at 0 at [0][0]; a variance must start positive to be fitted on a log scale.")]
    [InlineData(0.0, 1469.1, "em", "error: start.json: observationNoise: starts at 0 on the diagonal ([0][0]); EM cannot move a zero variance (the fit then follows the data or the transition exactly), so start it positive.")]
    [InlineData(15099.0, 0.0, "em", "error: start.json: transitionNoise: starts at 0 on the diagonal ([0][0]); EM cannot move a zero variance (the fit then follows the data or the transition exactly), so start it positive.")]
    public void Fit_VarianceMatrixStartingAtZero_IsRejectedNamingTheField(double observationNoise, double transitionNoise, string method, string expected)
    {
        // Before: mle (and em from a zero transitionNoise) ended in "Infinity cannot be written as valid JSON ... this is
        // a bug in streamseq"; em from a zero observationNoise said the filter diverged at step 1.
        var model = NileStartingAt(observationNoise, transitionNoise);
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", model, "-i", NileCsv, "-o", output, "--fit", "observationNoise,transitionNoise", "--method", method);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal(expected, errors.Trim());
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("mle")]
    [InlineData("em")]
    public void Fit_VarianceStartingAt1e300_EndsWithAFiniteSpecThatRunsAgain(string method)
    {
        // Before (mle): a simplex step from log 1e300 overflowed exp to Infinity, and writing the trial spec threw
        // "Infinity cannot be written as valid JSON ... this is a bug in streamseq".
        var model = NileStartingAt(1e300, 1469.1);
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", model, "-i", NileCsv, "-o", output, "--fit", "observationNoise,transitionNoise", "--method", method);

        Assert.True(code == 0, errors);
        Assert.DoesNotContain("bug", errors, StringComparison.Ordinal);
        AssertUsableFit(output, NileCsv);
    }

    [Theory]
    [InlineData("observationNoise[3]", "'observationNoise' has 1 entry, so it has no [3].")]
    [InlineData("observationNoise[0][5]", "'observationNoise[0][5]' is not a field name with at most one whole-number index (such as observationNoise or components[0]); a matrix is fitted whole, not entry by entry.")]
    [InlineData("observationNoise[-1]", "'observationNoise[-1]' is not a field name with at most one whole-number index (such as observationNoise or components[0]); a matrix is fitted whole, not entry by entry.")]
    [InlineData("observationNoise[0", "'observationNoise[0' is not a field name with at most one whole-number index (such as observationNoise or components[0]); a matrix is fitted whole, not entry by entry.")]
    [InlineData("observationNoise[x]", "'observationNoise[x]' is not a field name with at most one whole-number index (such as observationNoise or components[0]); a matrix is fitted whole, not entry by entry.")]
    [InlineData("name[0]", "'name' is not a list, so it has no [0].")]
    [InlineData("components[0].levelNoise", "'components' is not a field of the model spec, so it cannot be fitted.")]
    [InlineData("bogus", "'bogus' is not a field of the model spec, so it cannot be fitted.")]
    public void Fit_ParameterPathTheModelDoesNotHave_IsRejectedNamingIt(string path, string expected)
    {
        // Before: [3] and "[0" were internal errors ("this is a bug in streamseq"), [x] an unlabelled format error,
        // and [-1] and [0][5] fitted the whole matrix or its first row under a name the user did not give.
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", Nile, "-i", NileCsv, "-o", output, "--fit", path);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: nile.json: {path}: {expected}", errors.Trim());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Fit_ManyReadingsAtOneTime_ListsTheFirstSkippedRowsAndCountsAll()
    {
        // Before: every conflicting duplicate was listed, one line each (a million for a million rows), and no count.
        var data = Write("data.csv", Series("same-time"));
        var output = Path.Combine(dir, "fitted.json");
        var (code, _, errors) = Invoke("fit", "-m", Nile, "-i", data, "-o", output, "--fit", "observationNoise,transitionNoise");

        Assert.True(code == 0, errors);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20, lines.Count(l => l.Contains(": conflicting-duplicate: stream 's' already has a reading at this time with different values (row skipped)", StringComparison.Ordinal)));
        Assert.StartsWith("data.csv:3: conflicting-duplicate", lines[0], StringComparison.Ordinal);
        Assert.Contains("(further rejected rows are counted but not listed)", lines);
        Assert.Contains("99 rows of data.csv skipped.", lines);
        Assert.Contains("warning: 1 observed value for 2 free parameters: the data cannot identify the parameters", lines);
        AssertUsableFit(output, data);
    }

    [Theory]
    [InlineData("nile.json")]
    [InlineData("adaptive-fleet.json")]
    [InlineData("hmm-regimes.json")]
    [InlineData("bocpd-levels.json")]
    [InlineData("particle-growth.json")]
    [InlineData("nab-detector.json")]
    public void Run_DegenerateSeries_EveryModelFinishesWithARecordPerReading(string model)
    {
        foreach (var series in new[] { "constant", "one-reading", "single-row", "near-max", "near-min", "outlier-1e200", "15th-digit", "gaps-1e12", "step-1e-9", "last-differs" })
        {
            var data = Write($"{series}.csv", Series(series));
            var output = Path.Combine(dir, $"{series}.jsonl");
            var (code, _, errors) = Invoke("run", "-m", RepositoryFiles.Path("examples", model), "-i", data, "-o", output);

            Assert.True(code == 0, $"{model} on {series}: {errors}");
            Assert.DoesNotContain("bug", errors, StringComparison.Ordinal);
            var filtered = File.ReadLines(output).Count(l => l.StartsWith("{\"type\":\"filtered\"", StringComparison.Ordinal));
            Assert.Equal(File.ReadLines(data).Count() - 1, filtered);
        }
    }

    private string Nab(string name, IEnumerable<string> values, bool sameTime = false)
    {
        var start = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var text = new StringBuilder("timestamp,value\n");
        var i = 0;
        foreach (var v in values)
        {
            text.Append(CultureInfo.InvariantCulture, $"{start.AddMinutes(sameTime ? 0 : 5 * i++):yyyy-MM-dd HH:mm:ss},{v}\n");
        }

        return Write(name, text.ToString());
    }

    /// <summary>Scores of a detect output: every one finite and in [0, 1].</summary>
    private static double[] Scores(string output)
    {
        var scores = File.ReadLines(output).Skip(1).Select(l => double.Parse(l[(l.LastIndexOf(',') + 1)..], CultureInfo.InvariantCulture)).ToArray();
        Assert.All(scores, s => Assert.InRange(s, 0.0, 1.0));
        return scores;
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("ties")]
    [InlineData("near-max")]
    [InlineData("double-max")]
    [InlineData("near-min")]
    [InlineData("15th-digit")]
    [InlineData("one-reading")]
    [InlineData("single-row")]
    [InlineData("two-rows")]
    [InlineData("same-time")]
    public void Detect_DegenerateSeries_ScoresEveryRowInTheUnitInterval(string series)
    {
        var random = new Random(2);
        var n = series switch { "single-row" => 1, "two-rows" => 2, _ => 600 };
        var values = Enumerable.Range(0, n).Select(i => series switch
        {
            "constant" => "5",
            "ties" => random.Next(3).ToString(CultureInfo.InvariantCulture),
            "near-max" => i % 2 == 0 ? "1e300" : "-1e300",
            "double-max" => i % 2 == 0 ? "1.7976931348623157E+308" : "-1.7976931348623157E+308",
            "near-min" => (1e-300 * random.NextDouble()).ToString("R", CultureInfo.InvariantCulture),
            "15th-digit" => (1.0 + (random.Next(10) * 1e-14)).ToString("R", CultureInfo.InvariantCulture),
            "one-reading" => i == 300 ? "7" : string.Empty,
            "same-time" => random.NextDouble().ToString("R", CultureInfo.InvariantCulture),
            _ => (3 + i).ToString(CultureInfo.InvariantCulture),
        });
        var data = Nab("data.csv", values, sameTime: series == "same-time");
        var output = Path.Combine(dir, "scores.csv");
        var (code, _, errors) = Invoke("detect", "-i", data, "-o", output);

        Assert.True(code == 0, errors);
        Assert.Equal(n, Scores(output).Length);
        Assert.Contains($"{Counted.Of(n, "row")} in 1 file scored", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_EveryValueIdenticalButTheLast_TheLastScoresHighest()
    {
        var data = Nab("data.csv", Enumerable.Repeat("5", 599).Append("9"));
        var output = Path.Combine(dir, "scores.csv");
        var (code, _, errors) = Invoke("detect", "-i", data, "-o", output);

        Assert.True(code == 0, errors);
        var scores = Scores(output);
        Assert.Equal(1.0, scores[^1]);
        Assert.All(scores[..^1], s => Assert.True(s < 0.5, $"{s}"));
    }

    [Fact]
    public void Detect_OneOutlierOf1e200_IsTheRowThatScoresHighest()
    {
        var random = new Random(3);
        var data = Nab("data.csv", Enumerable.Range(0, 600).Select(i => i == 300 ? "1e200" : (10 + random.NextDouble()).ToString("R", CultureInfo.InvariantCulture)));
        var output = Path.Combine(dir, "scores.csv");
        var (code, _, errors) = Invoke("detect", "-i", data, "-o", output);

        Assert.True(code == 0, errors);
        var scores = Scores(output);
        Assert.Equal(1.0, scores[300]);
        Assert.Equal(scores.Max(), scores[300]);
    }
}
