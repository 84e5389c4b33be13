using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Detection;

public sealed class AnomalyDetectorKindTests
{
    private const string Minimal = """{"name":"d","kind":"anomaly-detector"}""";

    [Fact]
    public void Build_MinimalSpec_IsTheDefaultDetector()
    {
        var estimator = ModelCatalog.Build(ModelSpec.Parse(Minimal));

        var detector = Assert.IsType<AnomalyDetector>(estimator);
        AssertSameOptions(AnomalyDetectorOptions.Default, detector.Options);
        Assert.Equal(["anomalyScore", "surprisal", "tailProbability", "expertWeights"], detector.Info.Extras.Select(e => e.Name));
        Assert.Equal(1, detector.Info.ObservationDimension);
        Assert.True(detector.Info.CanSmooth);
    }

    [Fact]
    public void Build_EverySettingGiven_ReadsEachOne()
    {
        const string Json = """
            {"name":"d","kind":"anomaly-detector","warmupLength":20,"levelDiscount":0.9,"varianceDiscount":0.99,
             "observationDegreesOfFreedom":10,"initialLevelVariance":5,"initialVarianceDegreesOfFreedom":3,
             "seasonalPeriods":[3600, "PT2H"],"seasonalBinNoise":0.1,"initialBinVariance":2,"minimumSeasonalBins":10,
             "maximumSeasonalBins":500,"marginalBins":128,"marginalPriorWeight":2,"marginalBandwidthFactor":1.1,
             "switchingRate":0.05,"changepointHazard":0.01,"changepointMaxRunLength":64,"calibrationWarmup":50,"calibrationResolution":0.2,"calibrationMinimum":-30,
             "calibrationMaximum":100,"tailFraction":0.05,"minimumTailScale":0.25,"tailModel":"exceedance","evidenceWindow":12,
             "historyExponent":1,"scoreSpan":10,
             "suppressionWindow":10,"suppressionFactor":0.25,"quantizationFloor":0.5}
            """;
        var expected = new AnomalyDetectorOptions
        {
            WarmupLength = 20, LevelDiscount = 0.9, VarianceDiscount = 0.99, ObservationDegreesOfFreedom = 10,
            InitialLevelVariance = 5, InitialVarianceDegreesOfFreedom = 3, SeasonalPeriods = [3600.0, 7200.0],
            SeasonalBinNoise = 0.1, InitialBinVariance = 2, MinimumSeasonalBins = 10, MaximumSeasonalBins = 500,
            MarginalBins = 128, MarginalPriorWeight = 2, MarginalBandwidthFactor = 1.1, SwitchingRate = 0.05,
            ChangepointHazard = 0.01, ChangepointMaxRunLength = 64,
            CalibrationWarmup = 50, CalibrationResolution = 0.2, CalibrationMinimum = -30, CalibrationMaximum = 100,
            TailFraction = 0.05, MinimumTailScale = 0.25, TailModel = "exceedance", EvidenceWindow = 12, HistoryExponent = 1, ScoreSpan = 10, SuppressionWindow = 10,
            SuppressionFactor = 0.25, QuantizationFloor = 0.5,
        };

        var detector = Assert.IsType<AnomalyDetector>(ModelCatalog.Build(ModelSpec.Parse(Json)));

        AssertSameOptions(expected, detector.Options);
    }

    [Theory]
    [InlineData("PT1S", 86_400.0, 604_800.0)]
    [InlineData("PT1M", 1_440.0, 10_080.0)]
    [InlineData("PT1H", 24.0, 168.0)]
    public void Build_DefaultPeriods_FollowTheTimeUnit(string unit, double day, double week)
    {
        var spec = ModelSpec.Parse($$"""{"name":"d","kind":"anomaly-detector","timeUnit":"{{unit}}"}""");

        var detector = Assert.IsType<AnomalyDetector>(ModelCatalog.Build(spec));

        Assert.Equal([day, week], detector.Options.SeasonalPeriods);
    }

    [Theory]
    [InlineData("\"levelDiscount\":1.5", "levelDiscount", "(0, 1]")]
    [InlineData("\"seasonalPeriods\":[\"soon\"]", "seasonalPeriods[0]", "not a duration")]
    [InlineData("\"seasonalPeriods\":[86400, -1]", "seasonalPeriods[1]", "positive number")]
    [InlineData("\"seasonalPeriods\":86400", "seasonalPeriods", "array")]
    [InlineData("\"marginalBins\":255", "marginalBins", "even")]
    [InlineData("\"switchingRate\":0", "switchingRate", "(0, 1)")]
    [InlineData("\"warmupLength\":2.5", "warmupLength", "integer")]
    [InlineData("\"levelDiscont\":0.9", "levelDiscont", "not a known field")]
    [InlineData("\"tailModel\":\"gaussian\"", "tailModel", "\"empirical\" or \"exceedance\"")]
    [InlineData("\"evidenceWindow\":-1", "evidenceWindow", "at least 0")]
    public void Build_BadSetting_FailsNamingTheField(string field, string path, string problem)
    {
        var json = Minimal.Replace("}", "," + field + "}", StringComparison.Ordinal);

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));

        Assert.Equal(path, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultsFile_ReadByTheKind_IsTheDefaultOptionsWithTheShippedThresholds()
    {
        var options = AnomalyDetectorKind.ReadOptions(AnomalyDetectorDefaults.Spec.Reader());

        AssertSameOptions(AnomalyDetectorOptions.Default, options);
        Assert.Equal(["reward_low_FN_rate", "reward_low_FP_rate", "standard"], options.Thresholds.Keys.Order(StringComparer.Ordinal));
        Assert.All(options.Thresholds.Values, t => Assert.InRange(t.Threshold, 0.0, 1.0));
    }

    [Fact]
    public void DefaultsFile_WritesOutEverySetting()
    {
        var json = AnomalyDetectorDefaults.Spec.Json;

        foreach (var property in typeof(AnomalyDetectorOptions).GetProperties().Where(p => p.SetMethod is not null))
        {
            var field = char.ToLowerInvariant(property.Name[0]) + property.Name[1..];
            Assert.True(json.TryGetProperty(field, out _), $"anomaly-detector.json does not write out '{field}'");
        }
    }

    [Fact]
    public void Build_MinimalSpec_CarriesTheShippedThresholds()
    {
        var detector = Assert.IsType<AnomalyDetector>(ModelCatalog.Build(ModelSpec.Parse(Minimal)));

        Assert.Same(AnomalyDetectorOptions.Default.Thresholds, detector.Options.Thresholds);
    }

    [Theory]
    [InlineData("\"levelDiscount\":0.9")]
    [InlineData("\"seasonalPeriods\":[\"P1D\"]")]
    [InlineData("\"timeUnit\":\"PT1M\"")]
    public void Build_SettingsOtherThanTheShippedOnes_HaveNoThresholds(string field)
    {
        var json = Minimal.Replace("}", "," + field + "}", StringComparison.Ordinal);

        var detector = Assert.IsType<AnomalyDetector>(ModelCatalog.Build(ModelSpec.Parse(json)));

        Assert.Empty(detector.Options.Thresholds);
    }

    [Fact]
    public void Build_ShippedSettingsWrittenOut_KeepTheShippedThresholds()
    {
        const string Json = """{"name":"d","kind":"anomaly-detector","timeUnit":"PT1S","levelDiscount":0.95,"seasonalPeriods":["P1D","P7D"]}""";

        var detector = Assert.IsType<AnomalyDetector>(ModelCatalog.Build(ModelSpec.Parse(Json)));

        Assert.Equal(AnomalyDetectorOptions.Default.Thresholds, detector.Options.Thresholds);
    }

    [Fact]
    public void Build_ThresholdsGiven_AreTheSpecsOwn()
    {
        const string Json = """
            {"name":"d","kind":"anomaly-detector","levelDiscount":0.9,
             "thresholds":{"standard":{"threshold":0.7,"score":12.5},"mine":{"threshold":0.8,"score":-3}}}
            """;

        var detector = Assert.IsType<AnomalyDetector>(ModelCatalog.Build(ModelSpec.Parse(Json)));

        Assert.Equal(new DetectorThreshold(0.7, 12.5), detector.Options.Thresholds["standard"]);
        Assert.Equal(new DetectorThreshold(0.8, -3), detector.Options.Thresholds["mine"]);
        Assert.Equal(2, detector.Options.Thresholds.Count);
    }

    [Theory]
    [InlineData("\"thresholds\":[0.5]", "thresholds", "object")]
    [InlineData("\"thresholds\":{\"standard\":0.5}", "thresholds.standard", "object")]
    [InlineData("\"thresholds\":{\"standard\":{\"threshold\":\"high\",\"score\":1}}", "thresholds.standard.threshold", "number")]
    [InlineData("\"thresholds\":{\"standard\":{\"threshold\":0.5}}", "thresholds.standard.score", "required")]
    [InlineData("\"thresholds\":{\"standard\":{\"threshold\":0.5,\"score\":1,\"when\":2}}", "thresholds.standard.when", "not a known field")]
    public void Build_BadThresholds_FailNamingTheField(string field, string path, string problem)
    {
        var json = Minimal.Replace("}", "," + field + "}", StringComparison.Ordinal);

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));

        Assert.Equal(path, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.OrdinalIgnoreCase);
    }

    internal static void AssertSameOptions(AnomalyDetectorOptions expected, AnomalyDetectorOptions actual)
    {
        foreach (var property in typeof(AnomalyDetectorOptions).GetProperties().Where(p => p.GetIndexParameters().Length == 0))
        {
            var e = property.GetValue(expected);
            var a = property.GetValue(actual);
            if (e is IEnumerable<double> periods)
            {
                Assert.Equal(periods, (IEnumerable<double>)a!);
            }
            else if (e is IReadOnlyDictionary<string, DetectorThreshold> thresholds)
            {
                Assert.Equal(thresholds.OrderBy(p => p.Key), ((IReadOnlyDictionary<string, DetectorThreshold>)a!).OrderBy(p => p.Key));
            }
            else
            {
                Assert.True(Equals(e, a), $"{property.Name}: expected {e}, got {a}");
            }
        }
    }
}
