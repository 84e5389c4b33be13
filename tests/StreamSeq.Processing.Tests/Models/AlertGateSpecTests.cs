using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;

namespace StreamSeq.Processing.Tests.Models;

/// <summary>The spec's <c>alertGate</c> section: values the gate cannot mean are refused naming the field.</summary>
public sealed class AlertGateSpecTests
{
    private const string Nile = """{"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1469.1]],"observation":[[1]],"observationNoise":[[15099]],"initialMean":[0],"initialCovariance":[[1e7]],"alertGate":""";

    [Theory]
    [InlineData("""{"maxAlertsPerWindow":-5}""", "alertGate.maxAlertsPerWindow", "must be at least 0 (0 = unlimited), got -5.")]
    [InlineData("""{"minInterval":-0.5}""", "alertGate.minInterval", "must be at least 0, got -0.5.")]
    [InlineData("""{"rateWindow":0}""", "alertGate.rateWindow", "must be positive.")]
    [InlineData("""{"maxAlertsPerWindow":2.5}""", "alertGate.maxAlertsPerWindow", "must be an integer, got the number 2.5.")]
    public void FromSpec_GateValueOutOfRange_FailsNamingTheField(string gate, string field, string problem)
    {
        var spec = ModelSpec.Parse(Nile + gate + "}");

        var e = Assert.Throws<ModelValidationException>(() => ModelBindingFactory.FromSpec(spec));

        Assert.Equal(field, e.Field);
        Assert.Equal(problem, e.Problem);
    }

    [Fact]
    public void FromSpec_GateAtItsBounds_IsAccepted()
    {
        var binding = ModelBindingFactory.FromSpec(ModelSpec.Parse(Nile + """{"hysteresis":false,"minInterval":0,"maxAlertsPerWindow":0,"rateWindow":1e-9}}"""));

        Assert.False(binding.Gate.Hysteresis);
        Assert.Equal(0, binding.Gate.MaxAlertsPerWindow);
        Assert.Equal(1e-9, binding.Gate.RateWindow);
    }
}
