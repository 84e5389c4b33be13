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
             "calibrationMaximum":100,"tailFraction":0.05,"minimumTailScale":0.25,"historyExponent":1,"scoreSpan":10,
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
            TailFraction = 0.05, MinimumTailScale = 0.25, HistoryExponent = 1, ScoreSpan = 10, SuppressionWindow = 10,
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
    public void Build_BadSetting_FailsNamingTheField(string field, string path, string problem)
    {
        var json = Minimal.Replace("}", "," + field + "}", StringComparison.Ordinal);

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));

        Assert.Equal(path, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
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
            else
            {
                Assert.True(Equals(e, a), $"{property.Name}: expected {e}, got {a}");
            }
        }
    }
}
