using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Particles;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>The recurrent spec kinds: weights relative to the spec file, errors that name field and tensor, and the
/// stochastic (UKF, particle) readings of a net against the deterministic one.</summary>
public sealed class RecurrentKindTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("streamseq-recurrent-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Build_WeightsPathRelativeToTheSpecFile_LoadsFromTheSpecFolder()
    {
        var spec = WriteModel("net", """ "kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":5,"layers":2,"weights":"net.safetensors" """, RecurrentCellKind.Gru);
        // The current directory is the test output folder, which has no net.safetensors.
        Assert.False(File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "net.safetensors")));
        var estimator = ModelCatalog.Build(ModelSpec.Load(spec));
        Assert.Equal("gru", estimator.Info.Family);
        Assert.Equal(10, estimator.Info.StateDimension);
        Assert.False(estimator.Info.HasStateCovariance);
    }

    [Fact]
    public void Build_MissingTensor_FailsNamingTheWeightsFieldTheTensorAndItsShape()
    {
        var spec = WriteModel("net", """ "kind":"recurrent","cell":"lstm","inputSize":1,"hiddenSize":5,"layers":3,"weights":"net.safetensors" """, RecurrentCellKind.Lstm);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Load(spec)));
        Assert.Equal("weights", e.Field);
        Assert.Contains("'weight_ih_l2'", e.Problem, StringComparison.Ordinal);
        Assert.Contains("[20, 5]", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_HeadOfTheWrongSize_FailsNamingTheTensor()
    {
        var spec = WriteModel("net", """ "kind":"recurrent","cell":"lstm","inputSize":1,"hiddenSize":5,"layers":2,"weights":"net.safetensors","head":{"type":"point","variance":1} """, RecurrentCellKind.Lstm);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Load(spec)));
        Assert.Equal("weights", e.Field);
        Assert.Contains("head.weight", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(""" "cell":"rnn" """, "cell")]
    [InlineData(""" "cell":"lstm","precision":"half" """, "precision")]
    [InlineData(""" "cell":"lstm","controlDimension":1 """, "controlDimension")]
    [InlineData(""" "cell":"lstm","head":{"type":"mixture"} """, "head.type")]
    [InlineData(""" "cell":"lstm","normalization":{"mean":[0],"scale":[0]} """, "normalization.scale[0]")]
    [InlineData(""" "cell":"lstm","weights":"absent.safetensors" """, "weights")]
    [InlineData(""" "cell":"lstm","hiddenLayers":2 """, "hiddenLayers")]
    // A point head's variance is a variance the filter adds, bounded as every spec variance is (at most 1e300); at the
    // bound itself the build goes on to the weights, whose head is this fixture's Gaussian one.
    [InlineData(""" "cell":"lstm","head":{"type":"point","variance":1.0000000000000002e300} """, "head.variance")]
    [InlineData(""" "cell":"lstm","head":{"type":"point","variance":[1.0000000000000002e300]} """, "head.variance[0]")]
    [InlineData(""" "cell":"lstm","head":{"type":"point","variance":1e300} """, "weights")]
    public void Build_BadField_NamesTheField(string fields, string field)
    {
        var body = $$""" "kind":"recurrent","inputSize":1,"hiddenSize":5,"layers":2{{(fields.Contains("weights", StringComparison.Ordinal) ? string.Empty : ",\"weights\":\"net.safetensors\"")}},{{fields}} """;
        var spec = WriteModel("net", body, RecurrentCellKind.Lstm);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Load(spec)));
        Assert.Equal(field, e.Field);
    }

    [Theory]
    // inputSize 2 on a series of one column: the normalization written for that column has one entry where the net
    // expects two observed components, and the error says where the two comes from.
    [InlineData(""" "normalization":{"mean":[0.5],"scale":[2]} """, "normalization.mean", "inputSize 2 less controlDimension 0")]
    [InlineData(""" "controlDimension":1,"controlNormalization":{"mean":[0,1],"scale":[1,1]} """, "controlNormalization.mean", "controlDimension 1")]
    [InlineData(""" "initialObservation":[1] """, "initialObservation", "inputSize 2 less controlDimension 0")]
    public void Build_VectorOfTheWrongLength_SaysWhereItsLengthComesFrom(string fields, string field, string reason)
    {
        const int inputSize = 2;
        var spec = WriteModel("net", $$""" "kind":"recurrent","cell":"lstm","inputSize":{{inputSize}},"hiddenSize":5,"layers":2,"weights":"net.safetensors",{{fields}} """, RecurrentCellKind.Lstm, inputSize: inputSize);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Load(spec)));
        Assert.Equal(field, e.Field);
        Assert.Contains(reason, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnscentedKind_NoProcessNoiseAndANearlyExactSensor_ReproducesTheDeterministicNet()
    {
        var deterministic = ModelCatalog.Build(ModelSpec.Load(WriteModel("det", """ "kind":"recurrent","cell":"lstm","inputSize":1,"hiddenSize":5,"layers":2,"weights":"det.safetensors","normalization":{"mean":[0.5],"scale":[2]} """, RecurrentCellKind.Lstm)));
        var ukf = ModelCatalog.Build(ModelSpec.Load(WriteModel("ukf", """ "kind":"recurrent-ukf","cell":"lstm","inputSize":1,"hiddenSize":5,"layers":2,"weights":"ukf.safetensors","normalization":{"mean":[0.5],"scale":[2]},"processNoise":1e-16,"observationNoise":1e-12 """, RecurrentCellKind.Lstm)));
        Assert.IsType<UnscentedKalmanFilter>(ukf);
        Assert.Equal("recurrent-ukf", ukf.Info.Family);
        Assert.Equal(20 + 2, ukf.Info.StateDimension);
        var a = Run(deterministic, Series(60, missingEvery: 0));
        var b = Run(ukf, Series(60, missingEvery: 0));
        for (var t = 0; t < a.Count; t++)
        {
            Expect.Close(a[t].Mean, b[t].Mean, 1e-6, $"step {t} predicted mean");
            Expect.Close(a[t].Variance, b[t].Variance, 1e-5, $"step {t} predicted variance");
            Expect.Close(a[t].LogLikelihood, b[t].LogLikelihood, 1e-5, $"step {t} logLik");
        }
    }

    [Fact]
    public void UnscentedKind_FixedLagOverTheWholeSeries_EqualsTheFixedIntervalSmoother()
    {
        var ukf = ModelCatalog.Build(ModelSpec.Load(WriteModel("ukf", """ "kind":"recurrent-ukf","cell":"gru","inputSize":1,"hiddenSize":4,"layers":1,"weights":"ukf.safetensors","processNoise":1e-3,"observationNoise":0.2 """, RecurrentCellKind.Gru, layers: 1, hidden: 4)));
        var series = Series(25, missingEvery: 6);
        var records = new List<double[]>();
        var state = new double[ukf.Info.StateLength];
        ukf.Initialize(state, 0);
        var estimate = new Estimate(ukf.Info);
        for (var t = 0; t < series.Length; t++)
        {
            var record = new double[ukf.Info.BackwardRecordLength];
            ukf.Step(state, series.At(t), estimate, record);
            Assert.Equal(EstimateFlags.None, estimate.Flags & EstimateFlags.Reinitialized);
            records.Add(record);
        }

        var (means, covariances) = FixedIntervalSmoother.Smooth(ukf, records);
        var lagged = new FixedLagSmoother(ukf, series.Length - 1);
        var lagState = new double[lagged.Info.StateLength];
        lagged.Initialize(lagState, 0);
        var lagEstimate = new Estimate(lagged.Info);
        for (var t = 0; t < series.Length; t++)
        {
            lagged.Step(lagState, series.At(t), lagEstimate, default);
        }

        var n = ukf.Info.StateDimension;
        Assert.True(lagEstimate.HasSmoothed);
        Expect.Close(means.AsSpan(0, n), lagEstimate.SmoothedMean, 1e-9, "smoothed mean of step 1");
        Expect.Close(covariances.AsSpan(0, n * n), lagEstimate.SmoothedCovariance, 1e-9, "smoothed covariance of step 1");
    }

    [Fact]
    public void ParticleKind_ManyParticlesAndANearlyExactSensor_ApproachesTheDeterministicNet()
    {
        var deterministic = ModelCatalog.Build(ModelSpec.Load(WriteModel("det", """ "kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":4,"layers":1,"weights":"det.safetensors" """, RecurrentCellKind.Gru, layers: 1, hidden: 4)));
        var particle = ModelCatalog.Build(ModelSpec.Load(WriteModel("pf", """ "kind":"recurrent-particle","cell":"gru","inputSize":1,"hiddenSize":4,"layers":1,"weights":"pf.safetensors","processNoise":0,"observationNoise":1e-4,"particles":4000 """, RecurrentCellKind.Gru, layers: 1, hidden: 4)));
        Assert.IsType<ParticleFilter>(particle);
        var series = Series(20, missingEvery: 0);
        var a = Run(deterministic, series);
        var b = Run(particle, series);
        for (var t = 0; t < a.Count; t++)
        {
            // With R tiny the sensor pins z to y, so the predictive of y_t is the net's N(ŷ, Σ) plus R.
            Expect.Close(a[t].Mean[0], b[t].Mean[0], 0.0, $"step {t} predicted mean", absTol: 0.05 * Math.Sqrt(a[t].Variance[0]));
            Expect.Close(a[t].Variance[0], b[t].Variance[0], 0.1, $"step {t} predicted variance");
        }
    }

    /// <summary>The kind is a particle filter, so a fixed-lag state saved before its records gained a trailer is
    /// converted as the particle kind's is (ParticleFormerRecordsTests).</summary>
    [Fact]
    public void ParticleKind_FixedLagStateOfThePreviousRecordLayout_ConvertedAndContinuesBitForBit()
    {
        var particle = ModelCatalog.Build(ModelSpec.Load(WriteModel("pfl", """ "kind":"recurrent-particle","cell":"gru","inputSize":1,"hiddenSize":4,"layers":1,"weights":"pfl.safetensors","observationNoise":0.01,"particles":64 """, RecurrentCellKind.Gru, layers: 1, hidden: 4)));
        ParticleFormerRecordsTests.AssertConvertedContinuesAsUninterrupted(particle);
    }

    /// <summary>With a control input the net's first step is h_1 = cell(h_0, [y_0, u_1]): the control of the first
    /// reading is known when it arrives, and the deterministic net uses it. The UKF's prior of h_1 must too, or its
    /// first prediction (and, through h, the following ones) differs from the net's; a prior built
    /// without u_1 put the predicted mean of y_1 0.021 away from the net's here, and the gap decayed over later steps.</summary>
    [Fact]
    public void UnscentedKind_WithAControlInput_ReproducesTheDeterministicNetFromTheFirstReading()
    {
        const string net = """ "cell":"lstm","inputSize":2,"hiddenSize":5,"layers":2,"controlDimension":1,"normalization":{"mean":[0.5],"scale":[2]},"controlNormalization":{"mean":[1],"scale":[3]}""";
        var deterministic = ModelCatalog.Build(ModelSpec.Load(WriteModel("cdet", $$""" "kind":"recurrent",{{net}},"weights":"cdet.safetensors" """, RecurrentCellKind.Lstm, inputSize: 2)));
        var ukf = ModelCatalog.Build(ModelSpec.Load(WriteModel("cukf", $$""" "kind":"recurrent-ukf",{{net}},"weights":"cukf.safetensors","processNoise":0,"observationNoise":1e-12 """, RecurrentCellKind.Lstm, inputSize: 2)));
        Assert.Equal(1, ukf.Info.ControlDimension);
        var a = RunWithControls(deterministic, 30);
        var b = RunWithControls(ukf, 30);
        for (var t = 0; t < a.Count; t++)
        {
            Expect.Close(a[t].Mean, b[t].Mean, 1e-6, $"step {t} predicted mean");
            Expect.Close(a[t].Variance, b[t].Variance, 1e-5, $"step {t} predicted variance");
            Expect.Close(a[t].LogLikelihood, b[t].LogLikelihood, 1e-5, $"step {t} logLik");
        }
    }

    /// <summary>The PyTorch oracle (Fixtures/rnn, float64, non-zero initial state) read as a controlled net: x_t =
    /// [y_{t-1} (2 values), u_t], so the readings are y_t = x_{t+1}[0..2), the controls u_t = x_t[2] and y_0 = x_0[0..2).
    /// With no process noise and a nearly exact sensor the UKF's predicted mean of y_t is the oracle's head output at
    /// every step, the first included (which needs u_1 in the prior of h_1).</summary>
    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void UnscentedKind_ControlledPyTorchOracle_PredictsTheOracleOutputsFromTheFirstReading(string cell)
    {
        const int stream = 1;
        var x = RnnFixtures.Inputs()[stream];
        var expected = RnnFixtures.Outputs($"{cell}_nonzeroinit_f64_outputs.csv")[stream];
        var path = RnnFixtures.WriteControlledSpec(folder, cell, "recurrent-ukf", stream, 1, "\"processNoise\":0,\"initialVariance\":0,\"observationNoise\":1e-12");
        var ukf = ModelCatalog.Build(ModelSpec.Load(path));
        var state = new double[ukf.Info.StateLength];
        ukf.Initialize(state, 0);
        var estimate = new Estimate(ukf.Info);
        for (var t = 0; t < RnnFixtures.Steps - 1; t++)
        {
            double[] y = [x[t + 1][0], x[t + 1][1]];
            double[] u = [x[t][2]];
            ukf.Step(state, new Observation(y, control: u), estimate, default);
            Expect.Close(expected[t].Y, estimate.ObservationMean, 1e-9, $"step {t + 1} predicted mean", absTol: 1e-12);
        }
    }

    private static List<(double[] Mean, double[] Variance, double LogLikelihood)> RunWithControls(IEstimator estimator, int length)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 12);
        var estimate = new Estimate(estimator.Info);
        var result = new List<(double[], double[], double)>();
        for (var t = 0; t < length; t++)
        {
            double[] y = [0.5 + Math.Sin(0.3 * t) + (0.2 * Math.Cos(1.7 * t))];
            double[] u = [1.0 + (6.0 * Math.Cos(0.9 * t))];
            estimator.Step(state, new Observation(y, control: u), estimate, default);
            result.Add((estimate.ObservationMean.ToArray(), estimate.ObservationCovariance.ToArray(), estimate.LogLikelihood));
        }

        return result;
    }

    private static List<(double[] Mean, double[] Variance, double LogLikelihood)> Run(IEstimator estimator, ObservationSeries series)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 12);
        var estimate = new Estimate(estimator.Info);
        var result = new List<(double[], double[], double)>();
        for (var t = 0; t < series.Length; t++)
        {
            estimator.Step(state, series.At(t), estimate, default);
            result.Add((estimate.ObservationMean.ToArray(), estimate.ObservationCovariance.ToArray(), estimate.LogLikelihood));
        }

        return result;
    }

    private static ObservationSeries Series(int length, int missingEvery)
    {
        var values = new double[length];
        for (var t = 0; t < length; t++)
        {
            values[t] = missingEvery > 0 && t % missingEvery == missingEvery - 1 ? double.NaN : 0.5 + Math.Sin(0.3 * t) + (0.2 * Math.Cos(1.7 * t));
        }

        return new ObservationSeries(1, values);
    }

    private string WriteModel(string name, string fields, RecurrentCellKind cell, int layers = 2, int hidden = 5, int inputSize = 1)
    {
        var gates = cell switch
        {
            RecurrentCellKind.Lstm => 4,
            RecurrentCellKind.Gru => 3,
            _ => 1,
        };
        var random = new Random(3);
        var weights = RandomWeights.Create(8, gates, inputSize, hidden, layers, scale: 0.6);
        var all = new StateDictionary([.. weights.Tensors, RandomWeights.Tensor(random, "head.weight", 0.5, 2, hidden), RandomWeights.Tensor(random, "head.bias", 0.3, 2)]);
        SafeTensorsFormat.WriteFile(Path.Combine(folder, $"{name}.safetensors"), all);
        var path = Path.Combine(folder, $"{name}.json");
        File.WriteAllText(path, $$"""{"name":"{{name}}",{{fields}}}""");
        return path;
    }
}
