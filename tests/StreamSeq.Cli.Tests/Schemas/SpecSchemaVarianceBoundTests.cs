using System.Globalization;
using System.Text.Json;
using Json.Schema;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Schemas;

/// <summary>
/// schemas/model-spec.schema.json bounds the same variances the readers bound (at most 1e300; an Ornstein–Uhlenbeck
/// volatility at most 1e150), so that an editor does not accept a spec 'streamseq run' refuses, nor refuse one it runs.
/// The fields and the specs that reach them are the readers' own test table (tests/Shared/SpecVarianceBounds.cs): a
/// field bounded by a reader and not by the schema, or the other way round, fails here.
/// </summary>
public sealed class SpecSchemaVarianceBoundTests
{
    // The library keeps a global registry by $id: this copy gets its own, as the other schema tests' copies do.
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(RepositoryFiles.Path("schemas", "model-spec.schema.json")).Replace("model-spec.schema.json", "model-spec-variance-bound.schema.json", StringComparison.Ordinal)));

    /// <summary>Each bounded field: (spec, path, the field the reader's error names, the next double above its bound,
    /// the bound).</summary>
    public static TheoryData<string, string, string, string, string> Bounded()
    {
        var data = new TheoryData<string, string, string, string, string>();
        foreach (var (spec, path, field) in SpecVarianceBounds.Variances)
        {
            data.Add(spec, path, field, SpecVarianceBounds.JustAbove, SpecVarianceBounds.Bound);
        }

        var (ouSpec, ouPath, ouField) = SpecVarianceBounds.Volatility;
        data.Add(ouSpec, ouPath, ouField, SpecVarianceBounds.DeviationJustAbove, SpecVarianceBounds.DeviationBound);
        return data;
    }

    public static TheoryData<string, string> NotBounded()
    {
        var data = new TheoryData<string, string>();
        foreach (var (spec, path) in SpecVarianceBounds.NotVariances)
        {
            data.Add(spec, path);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Bounded))]
    public void Spec_ValueJustAboveTheBound_IsRefusedByTheSchemaAndTheReader(string spec, string path, string field, string justAbove, string bound)
    {
        var (json, directory) = SpecVarianceBounds.With(spec, path, justAbove);

        Assert.False(Valid(json), $"the schema accepts {path} = {justAbove} in {Name(spec)}, which the reader refuses");
        var e = Assert.Throws<ModelValidationException>(() => Build(json, directory));
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"must be at most {double.Parse(bound, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)}", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Bounded))]
    public void Spec_ValueAtTheBound_IsAcceptedByTheSchemaAndTheReader(string spec, string path, string field, string justAbove, string bound)
    {
        Assert.NotNull(field);
        Assert.NotNull(justAbove);
        var (json, directory) = SpecVarianceBounds.With(spec, path, bound);

        Assert.True(Valid(json), $"the schema refuses {path} = {bound} in {Name(spec)}, which the reader accepts");
        Build(json, directory);
    }

    [Theory]
    [MemberData(nameof(NotBounded))]
    public void Spec_LargeValueThatIsNotAVariance_IsAcceptedByTheSchemaAndTheReader(string spec, string path)
    {
        var (json, directory) = SpecVarianceBounds.With(spec, path, "1e305");

        Assert.True(Valid(json), $"the schema bounds {path} in {Name(spec)}, which the reader does not");
        Build(json, directory);
    }

    /// <summary>
    /// The other shapes of a bounded field: a recurrent filter's observation noise as a vector or a matrix (the table
    /// has the number), a variance vector, and BOCPD's variance as a vector. (spec, path, the value with {0} for the
    /// number, the field the reader's error names.)
    /// </summary>
    [Theory]
    [InlineData("recurrent-sensor-ukf", "observationNoise", "[{0}]", "observationNoise[0]")]
    [InlineData("recurrent-sensor-ukf", "observationNoise", "[[{0}]]", "observationNoise[0][0]")]
    [InlineData("recurrent-sensor-particle", "observationNoise", "[[{0}]]", "observationNoise[0][0]")]
    [InlineData("recurrent-sensor-ukf", "processNoise", "[{0}]", "processNoise[0]")]
    [InlineData("recurrent-sensor-particle", "initialVariance", "[{0}]", "initialVariance[0]")]
    [InlineData("bocpd-levels", "observation.priorVariance", "[{0}]", "observation.priorVariance")]
    public void Spec_BoundedFieldInAnotherShape_IsBoundedByTheSchemaAsByTheReader(string spec, string path, string shape, string field)
    {
        var (above, aboveDirectory) = SpecVarianceBounds.With(spec, path, string.Format(CultureInfo.InvariantCulture, shape, SpecVarianceBounds.JustAbove));
        Assert.False(Valid(above), $"the schema accepts {path} = {shape} with {SpecVarianceBounds.JustAbove} in {Name(spec)}");
        var e = Assert.Throws<ModelValidationException>(() => Build(above, aboveDirectory));
        Assert.StartsWith(field, e.Field, StringComparison.Ordinal);
        Assert.StartsWith("must be at most 1E+300", e.Problem, StringComparison.Ordinal);

        var (at, atDirectory) = SpecVarianceBounds.With(spec, path, string.Format(CultureInfo.InvariantCulture, shape, SpecVarianceBounds.Bound));
        Assert.True(Valid(at), $"the schema refuses {path} = {shape} with {SpecVarianceBounds.Bound} in {Name(spec)}");
        Build(at, atDirectory);
    }

    /// <summary>A covariance's off-diagonal entries are bounded in size (|entry| ≤ 1e300): the schema has a minimum of
    /// -1e300 where the reader bounds a matrix's entries. (spec, the matrix, the field the reader's error names.)</summary>
    [Theory]
    [InlineData("imm-manoeuvre", "modes[0].observationNoise", "modes[0].observationNoise[0][1]")]
    [InlineData("nile", "transitionNoise", "transitionNoise[0][0]")]
    [InlineData("pendulum-ukf", "model.initialCovariance", "model.initialCovariance[0][1]")]
    [InlineData(SpecVarianceBounds.PendulumParticles, "model.initialCovariance", "model.initialCovariance[0][1]")]
    [InlineData(SpecVarianceBounds.MultivariateHmm, "emission.covariances[0]", "emission.covariances[0][0][1]")]
    public void Spec_CovarianceEntryJustBelowMinusTheBound_IsRefusedByTheSchemaAndTheReader(string spec, string path, string field)
    {
        var (json, directory) = field.EndsWith("[0][0]", StringComparison.Ordinal)
            ? SpecVarianceBounds.With(spec, path, $"[[-{SpecVarianceBounds.JustAbove}]]")
            : SpecVarianceBounds.With(spec, path, $"[[1,-{SpecVarianceBounds.JustAbove}],[-{SpecVarianceBounds.JustAbove},1]]");

        Assert.False(Valid(json), $"the schema accepts an entry of -{SpecVarianceBounds.JustAbove} in {path} of {Name(spec)}");
        var e = Assert.Throws<ModelValidationException>(() => Build(json, directory));
        Assert.Equal(field, e.Field);
        Assert.StartsWith("must be at most 1E+300", e.Problem, StringComparison.Ordinal);
    }

    /// <summary>
    /// A recurrent point head's variance, in the schema only: no bundled weights have a point head, so the reader's side
    /// (the same bound, naming head.variance) is RecurrentKindTests.Build_BadField_NamesTheField.
    /// </summary>
    [Theory]
    [InlineData("1.0000000000000002e300", false)]
    [InlineData("[1, 1.0000000000000002e300]", false)]
    [InlineData("1e300", true)]
    [InlineData("[1, 1e300]", true)]
    public void Spec_PointHeadVariance_IsBoundedByTheSchema(string variance, bool valid)
    {
        var (json, _) = SpecVarianceBounds.With("recurrent-nar", "head", $$"""{"type":"point","variance":{{variance}}}""");

        Assert.Equal(valid, Valid(json));
    }

    /// <summary>
    /// A particle model's process noise must be positive (the reader refuses 0: a population that never spreads cannot
    /// recover from a wrong start, and the smoothers divide by the transition density). The schema said "minimum 0" and
    /// docs/model-specs.md "≥ 0", so an editor passed a spec 'streamseq run' refuses.
    /// </summary>
    [Theory]
    [InlineData("""{"name":"t","kind":"particle","particles":10,"model":{"type":"growth","transitionNoise":10}}""", "model.transitionNoise")]
    [InlineData(SpecVarianceBounds.PendulumParticles, "model.accelerationNoise")]
    public void Spec_ParticleProcessNoiseOfZero_IsRefusedByTheSchemaAndTheReader(string spec, string field)
    {
        var (json, directory) = SpecVarianceBounds.With(spec, field, "0");

        Assert.False(Valid(json), $"the schema accepts {field} = 0, which the reader refuses");
        var e = Assert.Throws<ModelValidationException>(() => Build(json, directory));
        Assert.Equal(field, e.Field);
        var (positive, positiveDirectory) = SpecVarianceBounds.With(spec, field, "1e-300");
        Assert.True(Valid(positive));
        Build(positive, positiveDirectory);
    }

    private static bool Valid(string json) => Schema.Value.Evaluate(JsonDocument.Parse(json).RootElement).IsValid;

    private static void Build(string json, string? directory)
    {
        var estimator = ModelCatalog.Build(ModelSpec.Parse(json, "model", directory));
        Assert.NotNull(estimator);
        (estimator as IDisposable)?.Dispose();
    }

    private static string Name(string spec) => spec.StartsWith('{') ? "a spec" : $"examples/{spec}.json";
}
