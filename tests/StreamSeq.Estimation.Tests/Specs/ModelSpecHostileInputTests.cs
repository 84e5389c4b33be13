using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Specs;

/// <summary>Spec text found by the CLI's fuzz test to escape as an exception instead of a validation error.</summary>
public sealed class ModelSpecHostileInputTests
{
    [Fact]
    public void Parse_FieldGivenTwice_IsAValidationError()
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelSpec.Parse("""{"name":"a","name":"b","kind":"linear-gaussian"}""", "m.json"));

        Assert.Contains("name", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("P99999999Y")]
    [InlineData("1e999s")]
    [InlineData("1e300d")]
    public void Parse_DurationTooLongForATimeSpan_IsAValidationErrorNamingTheField(string unit)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelSpec.Parse($$"""{"name":"a","kind":"linear-gaussian","timeUnit":"{{unit}}"}"""));

        Assert.Equal("timeUnit", e.Field);
    }
}
