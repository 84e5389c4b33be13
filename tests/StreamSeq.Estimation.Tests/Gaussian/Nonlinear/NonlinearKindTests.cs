using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian.Nonlinear;

/// <summary>The <c>extended-kalman</c> and <c>unscented-kalman</c> spec kinds.</summary>
public sealed class NonlinearKindTests
{
    private const string PendulumUkf = """
        {"name":"swing","kind":"unscented-kalman",
         "model":{"type":"pendulum","dt":0.01,"g":9.81,"qc":0.1,"observationNoise":0.01,
                  "initialMean":[1.0,0.0],"initialCovariance":[[0.01,0],[0,0.04]],"priorAtTimeZero":true},
         "sigmaPoints":{"scheme":"merwe","alpha":1e-3,"beta":2,"kappa":0}}
        """;

    private const string GrowthEkf = """
        {"name":"ngm","kind":"extended-kalman",
         "model":{"type":"growth","transitionNoise":10,"observationNoise":1,"initialMean":[0],"initialCovariance":[[5]],
                  "priorAtTimeZero":true}}
        """;

    private const string LinearUkf = """
        {"name":"cv","kind":"unscented-kalman",
         "model":{"type":"linear","transition":[[1,0,1,0],[0,1,0,1],[0,0,1,0],[0,0,0,1]],
                  "transitionNoise":[[0.16666666666666666,0,0.25,0],[0,0.16666666666666666,0,0.25],[0.25,0,0.5,0],[0,0.25,0,0.5]],
                  "observation":[[1,0,0,0],[0,1,0,0]],"observationNoise":[[4,1],[1,2.25]],
                  "initialMean":[0,0,1,0.5],"initialCovariance":[[10,0,0,0],[0,10,0,0],[0,0,1,0],[0,0,0,1]],
                  "priorAtTimeZero":true}}
        """;

    [Fact]
    public void Build_PendulumUkfSpecWithPriorAtTimeZero_ReproducesOracleLogLikelihood()
    {
        var est = ModelCatalog.Build(ModelSpec.Parse(PendulumUkf));
        var ukf = Assert.IsType<UnscentedKalmanFilter>(est);
        Assert.Equal(SigmaPointScheme.Merwe, ukf.SigmaPoints.Scheme);
        Assert.True(ukf.Robust);
        Assert.True(est.Info.CanSmooth);
        var ll = LogLikelihood.Evaluate(est, [NonlinearFixtures.PendulumData()]);
        Expect.Close(NonlinearFixtures.Number(NonlinearFixtures.Pendulum.GetProperty("ukf").GetProperty("a1e-3_b2_k0").GetProperty("loglik")), ll, 1e-9, "loglik");
    }

    [Fact]
    public void Build_GrowthEkfSpecWithPriorAtTimeZero_ReproducesOracleLogLikelihood()
    {
        var est = ModelCatalog.Build(ModelSpec.Parse(GrowthEkf));
        Assert.IsType<ExtendedKalmanFilter>(est);
        var ll = LogLikelihood.Evaluate(est, [NonlinearFixtures.GrowthData()]);
        Expect.Close(NonlinearFixtures.Number(NonlinearFixtures.Expected.GetProperty("ngm").GetProperty("ekf").GetProperty("loglik")), ll, 1e-12, "loglik");

        var fd = ModelCatalog.Build(ModelSpec.Parse(GrowthEkf.Replace("\"kind\":\"extended-kalman\",", "\"kind\":\"extended-kalman\",\"jacobians\":\"finite-differences\",", StringComparison.Ordinal)));
        Assert.Equal(JacobianSource.FiniteDifferences, Assert.IsType<ExtendedKalmanFilter>(fd).Jacobians);
    }

    [Fact]
    public void Build_LinearModelPriorAtTimeZero_ReproducesKalmanOracleLogLikelihood()
    {
        // oracles/lgssm puts the prior at t = 0 too; priorAtTimeZero reproduces its log-likelihood directly.
        var est = ModelCatalog.Build(ModelSpec.Parse(LinearUkf));
        var ll = LogLikelihood.Evaluate(est, [Cv2d.Data()]);
        Expect.Close(-2402.5262907635306, ll, 1e-12, "loglik");
        var ekf = ModelCatalog.Build(ModelSpec.Parse(LinearUkf.Replace("unscented-kalman", "extended-kalman", StringComparison.Ordinal)));
        Expect.Close(-2402.5262907635306, LogLikelihood.Evaluate(ekf, [Cv2d.Data()]), 1e-12, "ekf loglik");
    }

    [Theory]
    [InlineData("unscented-kalman")]
    [InlineData("extended-kalman")]
    public void Fit_NileLocalLevelThroughNonlinearKind_RecoversKalmanMaximumLikelihood(string kind)
    {
        // The linear model run through the nonlinear filters has the Kalman likelihood, so maximum likelihood over
        // the nested spec paths finds the oracle's MLE (oracles/nile, fixed prior a1 = 0, P1 = 1e7).
        var spec = ModelSpec.Parse($$$"""
            {"name":"nile","kind":"{{{kind}}}",
             "model":{"type":"linear","transition":[[1]],"transitionNoise":[[100]],"observation":[[1]],
                      "observationNoise":[[100]],"initialMean":[0],"initialCovariance":[[1e7]]}}
            """);
        var nile = new ObservationSeries(1, OracleCsv.Load("nile", "nile_data.csv")["volume"]);
        var result = MaximumLikelihood.Fit(spec, [nile], ["model.observationNoise", "model.transitionNoise"]);
        Expect.Close(-641.5855783460864, result.LogLikelihood, 1e-9, "maximised loglik", absTol: 1e-7);
        Expect.Close(15099.686351807792, result.Spec["model"]!["observationNoise"]![0]![0]!.GetValue<double>(), 1e-4, "s2_eps");
        Expect.Close(1468.500125697868, result.Spec["model"]!["transitionNoise"]![0]![0]!.GetValue<double>(), 1e-4, "s2_eta");
    }

    [Fact]
    public void Build_SigmaPointDefaults_AreMerweOneTwoZeroAndJulierThreeMinusN()
    {
        var noPoints = PendulumUkf[..PendulumUkf.IndexOf(",\n \"sigmaPoints\"", StringComparison.Ordinal)] + "}";
        var ukf = Assert.IsType<UnscentedKalmanFilter>(ModelCatalog.Build(ModelSpec.Parse(noPoints)));
        Assert.Equal((SigmaPointScheme.Merwe, 1.0, 2.0, 0.0), (ukf.SigmaPoints.Scheme, ukf.SigmaPoints.Alpha, ukf.SigmaPoints.Beta, ukf.SigmaPoints.Kappa));
        var julier = Assert.IsType<UnscentedKalmanFilter>(ModelCatalog.Build(ModelSpec.Parse(PendulumUkf.Replace("\"scheme\":\"merwe\",\"alpha\":1e-3,\"beta\":2,\"kappa\":0", "\"scheme\":\"julier\"", StringComparison.Ordinal))));
        Assert.Equal((SigmaPointScheme.Julier, 1.0), (julier.SigmaPoints.Scheme, julier.SigmaPoints.Kappa));
        var exact = Assert.IsType<UnscentedKalmanFilter>(ModelCatalog.Build(ModelSpec.Parse(PendulumUkf.Replace("\"kind\":\"unscented-kalman\",", "\"kind\":\"unscented-kalman\",\"robust\":false,", StringComparison.Ordinal))));
        Assert.False(exact.Robust);
    }

    [Theory]
    [InlineData("\"dt\":0.01", "\"dt\":-0.01", "model.dt", "positive")]
    [InlineData("\"qc\":0.1,", "", "model.qc", "required")]
    [InlineData("\"type\":\"pendulum\"", "\"type\":\"pendulm\"", "model.type", "unknown model type 'pendulm'")]
    [InlineData("\"initialMean\":[1.0,0.0]", "\"initialMean\":[1.0]", "model.initialMean", "2 entries")]
    [InlineData("[[0.01,0],[0,0.04]]", "[[0.01,0.5],[0.5,0.04]]", "model.initialCovariance", "positive semi-definite")]
    [InlineData("\"observationNoise\":0.01", "\"observationNoise\":-0.01", "model.observationNoise", "non-negative")]
    [InlineData("\"priorAtTimeZero\":true", "\"priorAtTimeZero\":true,\"length\":1", "model.length", "not a known field")]
    [InlineData("\"priorAtTimeZero\":true", "\"priorAtTimeZero\":\"yes\"", "model.priorAtTimeZero", "true or false")]
    [InlineData("\"scheme\":\"merwe\"", "\"scheme\":\"cubature\"", "sigmaPoints.scheme", "\"merwe\" or \"julier\"")]
    [InlineData("\"alpha\":1e-3", "\"alpha\":0", "sigmaPoints.alpha", "positive")]
    [InlineData("\"kappa\":0}", "\"kappa\":-2}", "sigmaPoints.kappa", "n + kappa must be positive")]
    [InlineData("\"scheme\":\"merwe\",\"alpha\":1e-3,\"beta\":2,", "\"scheme\":\"julier\",\"alpha\":1e-3,", "sigmaPoints.alpha", "not a known field")]
    [InlineData("\"kind\":\"unscented-kalman\",", "\"kind\":\"unscented-kalman\",\"robust\":1,", "robust", "true or false")]
    [InlineData("\"kind\":\"unscented-kalman\",", "\"kind\":\"unscented-kalman\",\"jacobians\":\"model\",", "jacobians", "not a known field")]
    public void Build_MalformedUnscentedSpec_FailsNamingTheField(string from, string to, string field, string problem) =>
        AssertFails(PendulumUkf, from, to, field, problem);

    [Theory]
    [InlineData("\"transitionNoise\":10", "\"transitionNoise\":-10", "model.transitionNoise", "non-negative")]
    [InlineData("\"initialCovariance\":[[5]]", "\"initialCovariance\":[[5,0]]", "model.initialCovariance", "1x1")]
    [InlineData("\"kind\":\"extended-kalman\",", "\"kind\":\"extended-kalman\",\"jacobians\":\"numeric\",", "jacobians", "finite-differences")]
    [InlineData("\"kind\":\"extended-kalman\",", "\"kind\":\"extended-kalman\",\"sigmaPoints\":{},", "sigmaPoints", "not a known field")]
    public void Build_MalformedExtendedSpec_FailsNamingTheField(string from, string to, string field, string problem) =>
        AssertFails(GrowthEkf, from, to, field, problem);

    [Theory]
    [InlineData("\"observationNoise\":[[4,1],[1,2.25]]", "\"observationNoise\":[[4,1],[1,-2.25]]", "model.observationNoise", "positive semi-definite")]
    [InlineData("\"transitionNoise\":[[0.16666666666666666,0,0.25,0],", "\"transitionNoise\":[", "model.transitionNoise", "4x4")]
    [InlineData("\"initialMean\":[0,0,1,0.5],\"initialCovariance\":[[10,0,0,0],[0,10,0,0],[0,0,1,0],[0,0,0,1]],", "\"initialization\":\"diffuse\",", "model.initialization", "diffuse")]
    public void Build_MalformedLinearModel_FailsNamingTheField(string from, string to, string field, string problem) =>
        AssertFails(LinearUkf, from, to, field, problem);

    [Fact]
    public void Build_MissingModel_NamesTheField()
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse("""{"name":"x","kind":"extended-kalman"}""")));
        Assert.Equal("model", e.Field);
        Assert.Contains("required", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_FunctionsOfWrongDimension_NameTheFunction()
    {
        TransitionFunction f = (x, _, next) => next[0] = x[0];
        TransitionNoiseFunction q = (_, c) => c[0] = 1;
        ObservationFunction h = (x, y) => y[0] = x[0];
        double[] r = [1.0];

        // Each function is evaluated once at the prior mean with exactly sized buffers: indexing past them, or
        // returning non-finite or non-covariance values, fails naming the function.
        var e = Assert.Throws<ModelValidationException>(() => new NonlinearGaussianModel(1, 1, (x, _, next) => next[1] = x[0], q, h, r, [0.0], [1.0]));
        Assert.Equal("transition", e.Field);
        e = Assert.Throws<ModelValidationException>(() => new NonlinearGaussianModel(1, 1, f, (_, c) => c[3] = 1, h, r, [0.0], [1.0]));
        Assert.Equal("transitionNoise", e.Field);
        e = Assert.Throws<ModelValidationException>(() => new NonlinearGaussianModel(1, 1, f, q, (x, y) => y[0] = x[2], r, [0.0], [1.0]));
        Assert.Equal("observation", e.Field);
        e = Assert.Throws<ModelValidationException>(() => new NonlinearGaussianModel(1, 1, f, q, h, r, [0.0], [1.0], (_, _, j) => j[1] = 1));
        Assert.Equal("transitionJacobian", e.Field);
        e = Assert.Throws<ModelValidationException>(() => new NonlinearGaussianModel(1, 1, f, q, h, r, [0.0], [1.0], observationJacobian: (_, j) => j[0] = double.NaN));
        Assert.Equal("observationJacobian", e.Field);
        Assert.Contains("non-finite", e.Problem, StringComparison.Ordinal);
        e = Assert.Throws<ModelValidationException>(() => new NonlinearGaussianModel(1, 1, f, (_, c) => c[0] = -1, h, r, [0.0], [1.0]));
        Assert.Equal("transitionNoise", e.Field);
        e = Assert.Throws<ModelValidationException>(() => new NonlinearGaussianModel(1, 2, f, q, h, r, [0.0], [1.0]));
        Assert.Equal("observationNoise", e.Field);
        e = Assert.Throws<ModelValidationException>(() => new UnscentedKalmanFilter(new NonlinearGaussianModel(1, 1, f, q, h, r, [0.0], [1.0]), SigmaPoints.Julier(-1)));
        Assert.Equal("sigmaPoints.kappa", e.Field);
    }

    [Theory]
    [InlineData("pendulum-ukf", "a1_b2_k1", 100, 500)]
    [InlineData("growth-ekf", null, 100, 100)]
    public void Build_ExampleSpec_RunsItsDataLikeTheOracle(string name, string? ukfSetting, int rows, int oracleRows)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "StreamSeq.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var estimator = ModelCatalog.Build(ModelSpec.Load(Path.Combine(root.FullName, "examples", $"{name}.json")));
        var lines = File.ReadAllLines(Path.Combine(root.FullName, "examples", $"{name}.csv"));
        Assert.Equal("stream,time,y", lines[0]);
        var y = lines.Skip(1).Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var est = new Estimate(estimator.Info);
        var oracle = ukfSetting is null ? OracleCsv.Load("nonlinear", "ngm_ekf.csv") : OracleCsv.Load("nonlinear", $"pendulum_ukf_{ukfSetting}.csv");
        // The pendulum example is the first 100 of the oracle's 500 readings.
        Assert.Equal(rows, y.Length);
        Assert.Equal(oracleRows, oracle.RowCount);
        for (var t = 0; t < y.Length; t++)
        {
            estimator.Step(state, new Observation([y[t]]), est, default);
            Expect.Close(oracle["loglik_contrib"][t], est.LogLikelihood, 1e-9, $"{name} t={t + 1}");
        }
    }

    private static void AssertFails(string spec, string from, string to, string field, string problem)
    {
        var json = spec.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(spec, json);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }
}
