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
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("7.0")]
    [InlineData("1e300")]
    [InlineData("18446744073709551616")]
    [InlineData("\"7\"")]
    public void Parse_SeedThatIsNotAWholeNumberFromZero_IsAValidationErrorNamingTheField(string seed)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelSpec.Parse($$"""{"name":"a","kind":"particle","seed":{{seed}}}"""));

        Assert.Equal("seed", e.Field);
        Assert.Contains("an integer from 0 to 18446744073709551615", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("7", 7UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("null", 0UL)]
    public void Parse_SeedAWholeNumberFromZero_IsKeptExactly(string seed, ulong expected)
    {
        Assert.Equal(expected, ModelSpec.Parse($$"""{"name":"a","kind":"particle","seed":{{seed}}}""").Seed);
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

    [Theory]
    [InlineData("{\"name\":\"a\",\n\"kind\":NaN}", "at line 2, byte 8: 'N' is an invalid start of a value.")]
    [InlineData("{\"name\":\"a\"} trailing", "at line 1, byte 14: 't' is invalid after a single JSON value. Expected end of data.")]
    [InlineData(" \n", "is empty (a model spec is a JSON object with at least name and kind).")]
    public void Parse_NotJson_SaysWhereCountingFromOneWithoutTheParsersOwnAdvice(string json, string message)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelSpec.Parse(json, "m.json"));

        Assert.Equal("m.json", e.Field);
        Assert.EndsWith(message, e.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"components":[{"type":"trigonometric-seasonal","period":1e9,"harmonics":500000,"seasonalNoise":1}],"observationNoise":[[1]]}""", "components[0].harmonics", "must be at most 128")]
    [InlineData("""{"components":[{"type":"constant-acceleration","jerkNoise":1,"dimensions":2000000000}],"observationNoise":[[1]]}""", "components[0].dimensions", "must be at most 85")]
    [InlineData("""{"components":[{"type":"local-level","levelNoise":1,"dimensions":200},{"type":"constant-velocity","accelerationNoise":1,"dimensions":100}],"observationNoise":[[1]]}""", "components", "have 400 states up to components[1]")]
    [InlineData("""{"preset":{"type":"local-level","levelNoise":1,"dimensions":257},"observationNoise":[[1]]}""", "preset.dimensions", "must be at most 256")]
    public void Build_LinearGaussianOfMoreThanTheMostStates_FailsNamingTheFieldInsteadOfOverflowingOrRunningForHours(string fields, string field, string problem)
    {
        var spec = ModelSpec.Parse("""{"name":"big","kind":"linear-gaussian",""" + fields[1..]);

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(spec));

        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_LinearGaussianOfExactlyTheMostStates_IsAccepted()
    {
        var spec = ModelSpec.Parse("""{"name":"big","kind":"linear-gaussian","components":[{"type":"trigonometric-seasonal","period":1000,"harmonics":127,"seasonalNoise":1},{"type":"local-linear-trend","levelNoise":1,"slopeNoise":1}],"observationNoise":[[1]]}""");

        Assert.Equal(256, ModelCatalog.Build(spec).Info.StateDimension);
    }

    [Fact]
    public void Build_ExplicitTransitionOfMoreThanTheMostStates_FailsNamingIt()
    {
        var n = 257;
        var identity = "[" + string.Join(",", Enumerable.Range(0, n).Select(i => "[" + string.Join(",", Enumerable.Range(0, n).Select(j => i == j ? "1" : "0")) + "]")) + "]";
        var spec = ModelSpec.Parse($$"""{"name":"big","kind":"linear-gaussian","transition":{{identity}},"transitionNoise":{{identity}},"observation":[[1{{string.Concat(Enumerable.Repeat(",0", n - 1))}}]],"observationNoise":[[1]],"initialization":"diffuse"}""");

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(spec));

        Assert.Equal("transition", e.Field);
        Assert.Contains("is 257x257, but a model has at most 256 states", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"h","kind":"hmm","initialProbabilities":[0.5,0.5],"transition":[[0.9,0.1],[0.1,0.9]],"emission":{"type":"gaussian","means":[0,1],"variances":[1,1]},"viterbiWindow":2000000000}""", "viterbiWindow", "must be at most 5,000,000 with 2 states")]
    [InlineData("""{"name":"b","kind":"bocpd","hazard":{"type":"constant","rate":0.01},"observation":{"type":"normal-known-variance","variance":1,"priorMean":0,"priorVariance":9},"maxRunLength":2000000000}""", "maxRunLength", "must be at most 3,333,331 with 1 dimension")]
    [InlineData("""{"name":"b","kind":"bocpd","hazard":{"type":"constant","rate":0.01},"observation":{"type":"normal-known-variance","dimensions":2000000,"variance":1,"priorMean":0,"priorVariance":9}}""", "observation.dimensions", "must be at most 1024")]
    [InlineData("""{"name":"d","kind":"anomaly-detector","marginalBins":2000000000}""", "marginalBins", "must be at most 100000")]
    [InlineData("""{"name":"d","kind":"anomaly-detector","suppressionWindow":2000000000}""", "suppressionWindow", "must be at most 10000")]
    public void Build_SizeThatWouldFillTheMemoryOfEveryStream_FailsNamingTheField(string json, string field, string problem)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));

        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileThatIsNotUtf8_FailsNamingTheByteInsteadOfReadingReplacementCharacters()
    {
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-spec-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllBytes(path, [.. "{\"name\":\"caf"u8, 0xE9, .. "\",\"kind\":\"linear-gaussian\"}"u8]);

            var e = Assert.Throws<ModelValidationException>(() => ModelSpec.Load(path));

            Assert.Equal(path, e.Field);
            Assert.Equal("is not UTF-8 text: 0xE9 at byte 13 is not UTF-8 (save the file as UTF-8).", e.Problem);

            // A byte-order mark is UTF-8 and is skipped, as before.
            File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "{\"name\":\"caf\u00e9\",\"kind\":\"linear-gaussian\"}"u8]);
            Assert.Equal("caf\u00e9", ModelSpec.Parse(ModelSpec.ReadFile(path, path)).Name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReadFile_LargerThanTheBound_FailsInsteadOfReadingUntilMemoryRunsOut()
    {
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-spec-{Guid.NewGuid():N}.json");
        try
        {
            using (var file = File.Create(path))
            {
                file.SetLength(ModelSpec.MaxFileBytes + 1L);
            }

            var e = Assert.Throws<ModelValidationException>(() => ModelSpec.ReadFile(path, "big.json"));

            Assert.Equal("big.json", e.Field);
            Assert.StartsWith("is larger than 64 MiB", e.Problem, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Found by fuzzing (EstimationParserFuzzTests, seed cHtBm87oAPJ1): a string or field name that is not Unicode text
    /// (an unpaired surrogate escape) made the JSON library's InvalidOperationException escape, which the CLI reports as
    /// a bug, instead of a validation error naming the field.
    /// </summary>
    [Theory]
    [InlineData("""{"name":"m","kind":"linear-gaussian","observationNoise":[["\ud800"]]}""", "observationNoise[0][0]")]
    [InlineData("""{"name":"\udc00","kind":"linear-gaussian"}""", "name")]
    [InlineData("""{"name":"m","kind":"linear-gaussian","components":[{"type":"local-level","\ud800x":1}]}""", "a field name in components[0]")]
    public void Parse_StringThatIsNotUnicodeText_IsAValidationErrorNamingTheField(string json, string named)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json, "m.json")));

        Assert.Equal("m.json", e.Field);
        Assert.Equal($"{named} is not Unicode text (an unpaired surrogate escape such as \\ud800).", e.Problem);
    }

    /// <summary>Found by fuzzing (EstimationParserFuzzTests, seed 4s1BP1Yl6oa1): spec text given as a string with a lone
    /// surrogate character let the JSON library's ArgumentException escape.</summary>
    [Fact]
    public void Parse_TextWithALoneSurrogateCharacter_IsAValidationError()
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelSpec.Parse("{\"name\":\"a\ud800\",\"kind\":\"linear-gaussian\"}", "m.json"));

        Assert.Equal("m.json", e.Field);
        Assert.Contains("unpaired surrogate", e.Problem, StringComparison.Ordinal);
    }
}
