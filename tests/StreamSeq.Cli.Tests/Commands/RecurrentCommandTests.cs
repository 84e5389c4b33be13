using StreamSeq.Testing;
using System.Globalization;
using System.Text.Json;
using StreamSeq.Cli.Commands;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>Recurrent models through the CLI: training, replay, the stochastic filter's calibration, the ONNX kind.</summary>
public sealed class RecurrentCommandTests : IDisposable
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-recurrent-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>
    /// Trained weights go beside --output under its name with .safetensors: '-o dir/recurrent-nar' for a -m
    /// dir/recurrent-nar.json overwrote that model's own weights, which it then pointed at without having them.
    /// </summary>
    [Fact]
    public void Fit_BpttWhoseWeightsWouldReplaceTheModelsOwn_IsRefusedAndTheModelIsUnchanged()
    {
        var (model, weights) = CopyRecurrentExample();
        var before = File.ReadAllBytes(weights);
        var errors = new StringWriter();

        var code = CliErrors.Run(errors, "recurrent-nar.json", () => FitCommand.Execute(
            model,
            RepositoryFiles.Path("examples", "recurrent-nar.csv"),
            System.IO.Path.Combine(dir, "recurrent-nar"),
            [],
            null,
            500,
            0,
            errors,
            new BpttOptions { Epochs = 1, Seed = 1 }));

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: the weights file '{weights}' is the --model weights file: refusing to overwrite an input.", errors.ToString().Trim());
        Assert.Equal(before, File.ReadAllBytes(weights));
        Assert.Equal(["recurrent-nar.json", "recurrent-nar.safetensors"], Directory.GetFiles(dir).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The weights a spec names are an input of run as much as the spec: '-o dir/nar.safetensors' (or --dead-letters)
    /// replaced them with output records, and the model no longer loaded.
    /// </summary>
    [Theory]
    [InlineData("-o")]
    [InlineData("--dead-letters")]
    public async Task Run_OutputThatIsTheModelsWeights_IsRefusedAndTheWeightsAreUnchanged(string option)
    {
        var (model, weights) = CopyRecurrentExample();
        var before = File.ReadAllBytes(weights);
        var errors = new StringWriter();
        string[] outputs = option == "-o" ? ["-o", weights] : ["-o", System.IO.Path.Combine(dir, "o.jsonl"), option, weights];

        var code = await CliInvocation.RunAsync(CliCommands.Root(TextWriter.Null, errors, () => Stream.Null), ["run", "-m", model, "-i", RepositoryFiles.Path("examples", "recurrent-nar.csv"), .. outputs], TextWriter.Null, errors);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: {(option == "-o" ? "--output" : option)} '{weights}' is the --model weights file: refusing to overwrite an input.", errors.ToString().Trim());
        Assert.Equal(before, File.ReadAllBytes(weights));
        Assert.Equal(["recurrent-nar.json", "recurrent-nar.safetensors"], Directory.GetFiles(dir).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// bptt used to train on the readings without their control inputs (the series were loaded without them), so a
    /// net whose input holds a control learned only the observations' marginal: here y_t = 3 u_t + 0.1 e_t with u_t
    /// independent N(0, 1), whose marginal NLL is 1/2 log(2 pi e 9.01) = 2.52 nats, while the controls explain all but
    /// a noise of sd 0.1 (NLL -0.88). The held-out NLL must be far below the marginal's.
    /// </summary>
    [Fact]
    public void Fit_BpttOfANetWithAControlInput_LearnsFromTheRowsControls()
    {
        var rng = new Random(7);
        var rows = new List<string> { "stream,time,value,control_1" };
        for (var t = 1; t <= 600; t++)
        {
            var u = Normal(rng);
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"s,{t},{(3 * u) + (0.1 * Normal(rng))},{u}"));
        }

        var input = System.IO.Path.Combine(dir, "controlled.csv");
        File.WriteAllLines(input, rows);
        var model = System.IO.Path.Combine(dir, "controlled.json");
        File.WriteAllText(model, """{"name":"controlled","kind":"recurrent","cell":"gru","inputSize":2,"controlDimension":1,"hiddenSize":4,"layers":1}""");
        var output = System.IO.Path.Combine(dir, "controlled-fit.json");

        var code = FitCommand.Execute(model, input, output, [], null, 500, 0, TextWriter.Null, new BpttOptions { Epochs = 30, LearningRate = 0.02, BatchSize = 8, Seed = 1 });

        Assert.Equal(0, code);
        var fit = JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("fit");
        var heldOut = fit.GetProperty("validationNll").GetDouble();
        Assert.True(heldOut < 1.0, $"held-out NLL {heldOut} is not below 1.0 (2.52 without the controls)");
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void Fit_BpttOnTheBundledSeries_HeldOutNllWithinTenPercentOfTheTrueProcess()
    {
        var output = System.IO.Path.Combine(dir, "nar.json");
        var code = FitCommand.Execute(
            RepositoryFiles.Path("examples", "recurrent-nar-init.json"),
            RepositoryFiles.Path("examples", "recurrent-nar.csv"),
            output,
            [],
            null,
            500,
            0,
            TextWriter.Null,
            new BpttOptions { Epochs = 40, LearningRate = 0.02, BatchSize = 8, Seed = 1 });
        Assert.Equal(0, code);
        var fitted = JsonDocument.Parse(File.ReadAllText(output)).RootElement;
        Assert.Equal("nar.safetensors", fitted.GetProperty("weights").GetString());
        Assert.Equal("bptt", fitted.GetProperty("fit").GetProperty("method").GetString());
        Assert.True(File.Exists(System.IO.Path.Combine(dir, "nar.safetensors")));

        // Held-out series (another seed) through the trained model, as 'run' steps it.
        var test = ReadValues(RepositoryFiles.Path("examples", "recurrent-nar-test.csv"));
        var estimator = ModelCatalog.Build(ModelSpec.Load(output));
        var logLik = Replay(estimator, test);

        // The generating process (streamseq generate --process nonlinear-ar), written out independently.
        double modelNll = 0, trueNll = 0;
        for (var t = 2; t < test.Length; t++)
        {
            var a = Math.Exp(-test[t - 1] * test[t - 1]);
            var mean = ((0.5 + (0.9 * a)) * test[t - 1]) - ((0.3 + (0.9 * a)) * test[t - 2]);
            var sd = 0.3 + (0.4 * Math.Abs(Math.Tanh(test[t - 1])));
            var z = (test[t] - mean) / sd;
            trueNll += (0.5 * Log2Pi) + Math.Log(sd) + (0.5 * z * z);
            modelNll -= logLik[t];
        }

        var ratio = modelNll / trueNll;
        Assert.True(ratio < 1.10, $"held-out NLL per step {modelNll / (test.Length - 2):F4} vs true {trueNll / (test.Length - 2):F4} (ratio {ratio:F4})");
    }

    [Fact]
    public void Fit_SameSeedTwice_WritesIdenticalWeights()
    {
        var a = Train("a", seed: 7);
        var b = Train("b", seed: 7);
        var c = Train("c", seed: 8);
        var wa = SafeTensorsFormat.ReadFile(a);
        var wb = SafeTensorsFormat.ReadFile(b);
        var wc = SafeTensorsFormat.ReadFile(c);
        Assert.Equal(wa.Keys, wb.Keys);
        foreach (var name in wa.Keys)
        {
            Assert.Equal(wa[name].ToArray<double>(), wb[name].ToArray<double>());
        }

        Assert.NotEqual(wa["weight_hh_l0"].ToArray<double>(), wc["weight_hh_l0"].ToArray<double>());
    }

    [Fact]
    public void Run_LstmSpec_EmitsTheRecordKindsOfTheKalmanFilter()
    {
        var kalman = Run(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), lag: 3, horizon: 2, smooth: true);
        var lstm = Run(RepositoryFiles.Path("examples", "recurrent-nar.json"), RepositoryFiles.Path("examples", "recurrent-sensor.csv"), lag: 3, horizon: 2, smooth: true);
        Assert.Equal(Kinds(kalman), Kinds(lstm));
        var first = lstm.First(r => r.GetProperty("type").GetString() == "filtered");
        Assert.Equal("lstm", ModelCatalog.Build(ModelSpec.Load(RepositoryFiles.Path("examples", "recurrent-nar.json"))).Info.Family);
        Assert.Equal(16, first.GetProperty("state").GetProperty("mean").GetArrayLength());
        Assert.False(first.GetProperty("state").TryGetProperty("cov", out _));
        Assert.Equal(1, first.GetProperty("observation").GetProperty("cov").GetArrayLength());
        Assert.Equal(JsonValueKind.Number, first.GetProperty("logLik").ValueKind);
        Assert.Equal(0, first.GetProperty("resets").GetInt32());
        var forecast = lstm.First(r => r.GetProperty("type").GetString() == "forecast");
        Assert.Equal(1500 * 2, lstm.Count(r => r.GetProperty("type").GetString() == "forecast"));
        Assert.True(forecast.GetProperty("observation").GetProperty("cov")[0][0].GetDouble() > 0);
    }

    [Fact]
    public void Run_RecurrentUkf_EmitsSmoothedRecordsWithCovariances()
    {
        var records = Run(RepositoryFiles.Path("examples", "recurrent-sensor-ukf.json"), RepositoryFiles.Path("examples", "recurrent-sensor.csv"), lag: 5, horizon: 0, smooth: false);
        var smoothed = records.Where(r => r.GetProperty("type").GetString() == "smoothed").ToList();
        Assert.Equal(1500 - 5, smoothed.Count);
        var state = smoothed[100].GetProperty("state");
        Assert.Equal(16 + 2, state.GetProperty("mean").GetArrayLength());
        Assert.Equal(18, state.GetProperty("cov").GetArrayLength());
        Assert.Equal("recurrent-ukf", ModelCatalog.Build(ModelSpec.Load(RepositoryFiles.Path("examples", "recurrent-sensor-ukf.json"))).Info.Family);
    }

    /// <summary>
    /// The net was trained on the clean process; the bundled sensor adds noise of variance 0.25. The deterministic net
    /// takes the noisy readings at face value and keeps its clean-data variance; the UKF over its hidden state knows
    /// the sensor noise and propagates the input uncertainty, so its 95% predictive intervals cover about 95%.
    /// </summary>
    [Fact]
    public void Run_NoisySensor_StochasticFilterIsBetterCalibratedThanTheDeterministicNet()
    {
        var input = RepositoryFiles.Path("examples", "recurrent-sensor.csv");
        var y = ReadValues(input);
        var deterministic = Calibration(Run(RepositoryFiles.Path("examples", "recurrent-nar.json"), input, 0, 0, false), y);
        var ukf = Calibration(Run(RepositoryFiles.Path("examples", "recurrent-sensor-ukf.json"), input, 0, 0, false), y);
        Assert.True(ukf.Coverage is > 0.92 and < 0.98, $"UKF 95% coverage {ukf.Coverage:F4}");
        Assert.True(deterministic.Coverage < 0.85, $"deterministic 95% coverage {deterministic.Coverage:F4}");
        Assert.True(ukf.Nll < deterministic.Nll - 0.3, $"NLL per step: UKF {ukf.Nll:F4}, deterministic {deterministic.Nll:F4}");
    }

    /// <summary>
    /// The documented sensor-noise fit (docs/recurrent-filtering.md) written to another folder than the spec's: the
    /// fitted spec kept "weights": "recurrent-nar.safetensors", relative to its own folder now, and did not load.
    /// </summary>
    [Fact]
    public void Fit_MleOfARecurrentUkfWrittenToAnotherFolder_FittedSpecStillFindsTheWeights()
    {
        var input = System.IO.Path.Combine(dir, "sensor.csv");
        File.WriteAllLines(input, File.ReadLines(RepositoryFiles.Path("examples", "recurrent-sensor.csv")).Take(201));
        var output = System.IO.Path.Combine(dir, "fitted", "sensor-ukf.json");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(output)!);

        Assert.Equal(0, FitCommand.Execute(RepositoryFiles.Path("examples", "recurrent-sensor-ukf.json"), input, output, ["observationNoise"], "mle", 2, 0, TextWriter.Null));

        var weights = JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("weights").GetString()!;
        Assert.Equal(System.IO.Path.GetFullPath(RepositoryFiles.Path("examples", "recurrent-nar.safetensors")), System.IO.Path.GetFullPath(weights, System.IO.Path.GetDirectoryName(output)!));
        var errors = new StringWriter();
        Assert.Equal(0, CliErrors.Run(errors, "sensor-ukf.json", () => RunCommand.Execute(output, input, System.IO.Path.Combine(dir, "o.jsonl"), 0, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null)));
        Assert.Equal(string.Empty, errors.ToString());
    }

    [Fact]
    public void Run_OnnxRecurrentKind_MatchesTheManagedEngineOnTheOracleLstm()
    {
        ModelCatalog.Register(new OnnxRecurrentKind());
        var fixtures = RepositoryFiles.Path("tests", "StreamSeq.Estimation.Tests", "Fixtures", "rnn");
        File.Copy(System.IO.Path.Combine(fixtures, "lstm_model.onnx"), System.IO.Path.Combine(dir, "lstm_model.onnx"));
        File.Copy(System.IO.Path.Combine(fixtures, "lstm_weights.json"), System.IO.Path.Combine(dir, "lstm_weights.json"));
        const string layout = """ "controlDimension":1,"head":{"type":"point","variance":[0.5,2]} """;
        var onnxSpec = System.IO.Path.Combine(dir, "onnx.json");
        File.WriteAllText(onnxSpec, $$"""{"name":"o","kind":"onnx-recurrent","model":"lstm_model.onnx",{{layout}}}""");
        var nativeSpec = System.IO.Path.Combine(dir, "native.json");
        File.WriteAllText(nativeSpec, $$"""{"name":"n","kind":"recurrent","cell":"lstm","inputSize":3,"hiddenSize":8,"layers":2,"precision":"single","weights":"lstm_weights.json",{{layout}}}""");
        var onnx = ModelCatalog.Build(ModelSpec.Load(onnxSpec));
        var native = ModelCatalog.Build(ModelSpec.Load(nativeSpec));
        Assert.Equal("onnx-recurrent", onnx.Info.Family);
        Assert.Equal(native.Info.StateLength, onnx.Info.StateLength);
        var a = new double[onnx.Info.StateLength];
        var b = new double[native.Info.StateLength];
        onnx.Initialize(a, 0);
        native.Initialize(b, 0);
        var ea = new Estimate(onnx.Info);
        var eb = new Estimate(native.Info);
        for (var t = 0; t < 40; t++)
        {
            double[] values = [Math.Sin(0.3 * t), t % 9 == 4 ? double.NaN : Math.Cos(0.2 * t)];
            double[] control = [0.1 * (t % 5)];
            onnx.Step(a, new Observation(values, control: control), ea, default);
            native.Step(b, new Observation(values, control: control), eb, default);
            for (var j = 0; j < 2; j++)
            {
                Assert.True(Math.Abs(ea.ObservationMean[j] - eb.ObservationMean[j]) < 1e-5, $"step {t} mean {j}: onnx {ea.ObservationMean[j]}, managed {eb.ObservationMean[j]}");
            }

            Assert.True(Math.Abs(ea.LogLikelihood - eb.LogLikelihood) < 1e-4 || (double.IsNaN(ea.LogLikelihood) && double.IsNaN(eb.LogLikelihood)));
        }

        // And through 'run', registered like the CLI's Program does.
        var input = System.IO.Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, Enumerable.Range(1, 20).Select(t => string.Create(CultureInfo.InvariantCulture, $$"""{"stream":"s","time":{{t}},"values":[{{Math.Sin(t):R}},{{Math.Cos(t):R}}],"control":[0.5]}""")));
        var records = Run(onnxSpec, input, 2, 1, false);
        Assert.Equal(20, records.Count(r => r.GetProperty("type").GetString() == "filtered"));
        Assert.Equal(18, records.Count(r => r.GetProperty("type").GetString() == "smoothed"));
    }

    /// <summary>
    /// recurrent-particle on a net with a control input, through 'run' (the worker's StreamProcessor path): the model
    /// loads (it used to be refused with "controlDimension: the particle kind takes no control input"), the records'
    /// controls reach the particles' step, and with no noise on h and a head variance of 1e-20 the filtered records
    /// predict the PyTorch oracle GRU run closed loop on those controls (Fixtures/rnn/gru_closedloop_controls_f64.csv,
    /// see make_closed_loop_controls.py), to 1e-8; dropping the controls moves the predictions by up to 5e-2.
    /// </summary>
    [Fact]
    public void Run_RecurrentParticleKindWithAControlInput_PredictsTheNetOnTheRecordsControls()
    {
        var fixtures = RepositoryFiles.Path("tests", "StreamSeq.Estimation.Tests", "Fixtures", "rnn");
        File.Copy(System.IO.Path.Combine(fixtures, "gru_weights.json"), System.IO.Path.Combine(dir, "gru_weights.json"));
        static List<Dictionary<string, string>> Csv(string path)
        {
            var lines = File.ReadAllLines(path);
            var header = lines[0].Split(',');
            return [.. lines.Skip(1).Where(l => l.Length > 0).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal))];
        }

        var inputs = Csv(System.IO.Path.Combine(fixtures, "inputs.csv")).Where(r => r["stream"] == "1").OrderBy(r => int.Parse(r["t"], CultureInfo.InvariantCulture)).ToList();
        var h0 = Csv(System.IO.Path.Combine(fixtures, "gru_initial_state_nonzero.csv")).Single(r => r["stream"] == "1" && r["layer"] == "0");
        var closedLoop = Csv(System.IO.Path.Combine(fixtures, "gru_closedloop_controls_f64.csv"));
        var hidden = string.Join(",", Enumerable.Range(0, 8).Select(k => h0[$"h_{k}"]));
        var model = System.IO.Path.Combine(dir, "pf.json");
        File.WriteAllText(model, $$"""{"name":"pf","kind":"recurrent-particle","cell":"gru","inputSize":3,"hiddenSize":8,"layers":1,"controlDimension":1,"weights":"gru_weights.json","head":{"type":"point","variance":1e-20},"initialObservation":[{{inputs[0]["x_0"]}},{{inputs[0]["x_1"]}}],"initialHidden":[[{{hidden}}]],"processNoise":0,"initialVariance":0,"observationNoise":0.01,"particles":64}""");
        var input = System.IO.Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, Enumerable.Range(1, 49).Select(t => $$"""{"stream":"s","time":{{t}},"values":[{{inputs[t]["x_0"]}},{{inputs[t]["x_1"]}}],"control":[{{inputs[t - 1]["x_2"]}}]}"""));

        var filtered = Run(model, input, 0, 0, false).Where(r => r.GetProperty("type").GetString() == "filtered").ToList();

        Assert.Equal(49, filtered.Count);
        for (var t = 0; t < filtered.Count; t++)
        {
            var mean = filtered[t].GetProperty("observation").GetProperty("mean");
            for (var j = 0; j < 2; j++)
            {
                var expected = double.Parse(closedLoop[t][$"yhat_{j}"], CultureInfo.InvariantCulture);
                Assert.True(Math.Abs(mean[j].GetDouble() - expected) < 1e-8, $"reading {t + 1} mean {j}: {mean[j].GetDouble()}, net {expected}");
            }
        }
    }

    [Fact]
    public void Run_WeightsMissingATensor_FailsWithTheFieldAndTheTensor()
    {
        var spec = System.IO.Path.Combine(dir, "bad.json");
        File.Copy(RepositoryFiles.Path("examples", "recurrent-nar.safetensors"), System.IO.Path.Combine(dir, "nar.safetensors"));
        File.WriteAllText(spec, """{"name":"bad","kind":"recurrent","cell":"lstm","inputSize":1,"hiddenSize":8,"layers":2,"weights":"nar.safetensors"}""");
        var errors = new StringWriter();
        var code = CliErrors.Run(errors, "bad.json", () => RunCommand.Execute(spec, RepositoryFiles.Path("examples", "recurrent-nar-test.csv"), System.IO.Path.Combine(dir, "o.jsonl"), 0, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null));
        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Contains("bad.json: weights: Tensor 'weight_ih_l1' is missing", errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("expected shape [32, 8]", errors.ToString(), StringComparison.Ordinal);
    }

    private static (double Coverage, double Nll) Calibration(List<JsonElement> records, double[] y)
    {
        var filtered = records.Where(r => r.GetProperty("type").GetString() == "filtered").ToList();
        int covered = 0, count = 0;
        var nll = 0.0;
        for (var t = 50; t < filtered.Count; t++)
        {
            var mean = filtered[t].GetProperty("observation").GetProperty("mean")[0].GetDouble();
            var variance = filtered[t].GetProperty("observation").GetProperty("cov")[0][0].GetDouble();
            covered += Math.Abs(y[t] - mean) <= 1.959964 * Math.Sqrt(variance) ? 1 : 0;
            nll -= filtered[t].GetProperty("logLik").GetDouble();
            count++;
        }

        return ((double)covered / count, nll / count);
    }

    private static double[] Replay(IEstimator estimator, double[] values)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        var result = new double[values.Length];
        for (var t = 0; t < values.Length; t++)
        {
            estimator.Step(state, new Observation([values[t]]), estimate, default);
            result[t] = estimate.LogLikelihood;
        }

        return result;
    }

    private static double[] ReadValues(string path) =>
        [.. File.ReadAllLines(path).Skip(1).Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture))];

    private static SortedSet<string> Kinds(List<JsonElement> records) =>
        new(records.Select(r => r.GetProperty("type").GetString() + (r.TryGetProperty("method", out var m) ? "/" + m.GetString() : string.Empty)), StringComparer.Ordinal);

    private string Train(string name, ulong seed)
    {
        var output = System.IO.Path.Combine(dir, $"{name}.json");
        Assert.Equal(0, FitCommand.Execute(
            RepositoryFiles.Path("examples", "recurrent-nar-init.json"),
            RepositoryFiles.Path("examples", "recurrent-nar-test.csv"),
            output,
            [],
            "bptt",
            500,
            0,
            TextWriter.Null,
            new BpttOptions { Epochs = 3, Seed = seed }));
        return System.IO.Path.Combine(dir, $"{name}.safetensors");
    }

    /// <summary>
    /// README and model-specs.md: a recurrent-ukf stream re-initialised by a non-finite state (an exploding ReLU Elman
    /// net fed 1.0 at every step) restarts from its prior with the reading as the first, so every reset step gets one
    /// fixed-lag and one fixed-interval smoothed record, and --smooth gives the stretch from the first reset on exactly
    /// what a file beginning at that reading gives it.
    /// </summary>
    [Fact]
    public void Run_RecurrentUkfStreamReinitialisedByAnExplodingNet_EveryResetStepIsSmoothedAsAFirstReading()
    {
        File.WriteAllText(System.IO.Path.Combine(dir, "elman.json"), """
            {"tensors":{"weight_ih_l0":{"shape":[2,1],"values":[[1.0],[1.0]]},"weight_hh_l0":{"shape":[2,2],"values":[[10.0,0.0],[0.0,10.0]]},
             "bias_ih_l0":{"shape":[2],"values":[1.0,1.0]},"bias_hh_l0":{"shape":[2],"values":[0.0,0.0]},
             "head.weight":{"shape":[2,2],"values":[[1e-3,0.0],[0.0,0.0]]},"head.bias":{"shape":[2],"values":[0.0,0.0]}}}
            """);
        var model = System.IO.Path.Combine(dir, "elman-ukf.json");
        File.WriteAllText(model, """{"name":"eu","kind":"recurrent-ukf","cell":"elman","activation":"relu","inputSize":1,"hiddenSize":2,"layers":1,"weights":"elman.json","head":{"type":"gaussian","covariance":"diagonal-log-variance"},"observationNoise":0.25}""");
        string Input(string name, int from, int to)
        {
            var path = System.IO.Path.Combine(dir, name);
            File.WriteAllLines(path, ["stream,time,value", .. Enumerable.Range(from, to - from + 1).Select(t => $"s,{t},1.0")]);
            return path;
        }

        var whole = Input("whole.csv", 1, 400);
        static List<double> Resets(List<JsonElement> records) =>
            [.. records.Where(r => r.GetProperty("type").GetString() == "filtered" && r.TryGetProperty("health", out var h) && h.EnumerateArray().Any(f => f.GetString() == "reinitialized")).Select(r => r.GetProperty("time").GetDouble())];
        static List<double> SmoothedTimes(List<JsonElement> records) =>
            [.. records.Where(r => r.GetProperty("type").GetString() == "smoothed").Select(r => r.GetProperty("time").GetDouble())];

        var lagged = Run(model, whole, 3, 0, false);
        var resets = Resets(lagged);
        Assert.True(resets.Count >= 2, $"resets at {string.Join(",", resets)}");
        Assert.Equal([.. Enumerable.Range(1, 397).Select(t => (double)t)], SmoothedTimes(lagged));

        var smoothed = Run(model, whole, 0, 0, true);
        Assert.Equal([.. Enumerable.Range(1, 400).Select(t => (double)t)], SmoothedTimes(smoothed).Order());
        var first = (int)resets[0];
        var fresh = Run(model, Input("from-reset.csv", first, 400), 0, 0, true);
        Dictionary<double, string> Means(List<JsonElement> records) => records.Where(r => r.GetProperty("type").GetString() == "smoothed")
            .ToDictionary(r => r.GetProperty("time").GetDouble(), r => r.GetProperty("state").GetRawText());
        var expected = Means(fresh);
        var actual = Means(smoothed);
        for (var t = first; t <= 400; t++)
        {
            Assert.Equal(expected[t], actual[t]);
        }
    }

    private List<JsonElement> Run(string model, string input, int lag, int horizon, bool smooth)
    {
        var output = System.IO.Path.Combine(dir, $"out-{Guid.NewGuid():N}.jsonl");
        Assert.Equal(0, RunCommand.Execute(model, input, output, lag, horizon, smooth, 0, false, null, TextWriter.Null, TextWriter.Null));
        return [.. File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement)];
    }

    /// <summary>Copies the recurrent example's spec and the weights it names into the test's folder.</summary>
    private (string Model, string Weights) CopyRecurrentExample()
    {
        var model = System.IO.Path.Combine(dir, "recurrent-nar.json");
        var weights = System.IO.Path.Combine(dir, "recurrent-nar.safetensors");
        File.Copy(RepositoryFiles.Path("examples", "recurrent-nar.json"), model);
        File.Copy(RepositoryFiles.Path("examples", "recurrent-nar.safetensors"), weights);
        return (model, weights);
    }
}
