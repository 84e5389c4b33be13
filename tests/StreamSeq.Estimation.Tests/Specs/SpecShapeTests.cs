using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Specs;

/// <summary>Every kind declares its fields, and unknown-field errors list every field the object accepts.</summary>
public sealed class SpecShapeTests
{
    private const string Nile = """{"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1469.1]],"observation":[[1]],"observationNoise":[[15099]],"initialMean":[0],"initialCovariance":[[1e7]]""";

    [Fact]
    public void Fields_EveryBuiltInKind_IsDeclared()
    {
        // Other tests register kinds of their own; the built-in ones live in the library.
        foreach (var kind in ModelCatalog.All.Where(k => k.GetType().Assembly == typeof(ModelCatalog).Assembly))
        {
            Assert.True(kind.Fields is not null, $"kind '{kind.Kind}' declares no fields");
        }
    }

    /// <summary>The loader stops at the first unknown field, before fields such as <c>components</c> were ever looked at:
    /// the list still names every field of the kind, the shared ones included.</summary>
    [Fact]
    public void Build_MisspeltRootField_ListsEveryFieldTheKindAccepts()
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(Nile + ""","tranzition":1}""")));
        Assert.Equal("tranzition", e.Field);
        var listed = Listed(e);
        var expected = ModelSpec.CommonFields.Concat(ModelCatalog.Find("linear-gaussian")!.Fields!.Fields).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, listed);
        Assert.Contains("components", listed);
        Assert.Contains("initialization", listed);
    }

    /// <summary>A misspelt required field is reported as the unknown field it is, with the accepted fields, and not only
    /// as its correct spelling missing (which is what the kind's reader notices first).</summary>
    [Theory]
    [InlineData("""{"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNois":[[1469.1]],"observation":[[1]],"observationNoise":[[15099]],"initialMean":[0],"initialCovariance":[[1e7]]}""", "transitionNois", "transitionNoise: is required")]
    [InlineData("""{"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1469.1]],"observation":[[1]],"observationNoise":[[15099]],"initialMean":[0],"initialCovarianc":[[1e7]]}""", "initialCovarianc", "initialCovariance: is required")]
    [InlineData("""{"name":"x","kind":"linear-gaussian","components":[{"type":"local-level","levelNois":0.1}],"observationNoise":[[1]]}""", "components[0].levelNois", "components[0].levelNoise: is required")]
    public void Build_MisspeltRequiredField_NamesTheMisspellingAndWhatItLeftMissing(string json, string field, string missing)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.StartsWith("is not a known field here (known: ", e.Problem, StringComparison.Ordinal);
        Assert.Contains(field[(field.LastIndexOf('.') + 1)..] + "e", Listed(e));
        Assert.Contains("; " + missing, e.Problem, StringComparison.Ordinal);
    }

    /// <summary>With every field spelt right, a missing required field is still just that.</summary>
    [Fact]
    public void Build_RequiredFieldMissingWithoutATypo_SaysItIsRequired()
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(Nile.Replace("\"transitionNoise\":[[1469.1]],", string.Empty, StringComparison.Ordinal) + "}")));
        Assert.Equal("transitionNoise", e.Field);
        Assert.StartsWith("is required", e.Problem, StringComparison.Ordinal);
    }

    /// <summary>A field of another variant: the list is the fields of this component type.</summary>
    [Fact]
    public void Build_FieldOfAnotherPreset_ListsThatPresetsFields()
    {
        const string Json = """{"name":"x","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1,"slopeNoise":2}],"observationNoise":[[1]]}""";
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(Json)));
        Assert.Equal("components[0].slopeNoise", e.Field);
        Assert.Equal(["dimensions", "levelNoise", "type"], Listed(e));
    }

    [Theory]
    [InlineData("""{"name":"x","kind":"unscented-kalman","model":{"type":"growth","transitionNoise":10,"observationNoise":1,"initialMean":[0],"initialCovariance":[[5]]},"sigmaPoints":{"scheme":"julier","alpha":1}}""", "sigmaPoints.alpha", new[] { "kappa", "scheme" })]
    [InlineData("""{"name":"x","kind":"bocpd","hazard":{"type":"constant","rate":0.01,"scale":3},"observation":{"type":"normal-gamma","priorMean":0,"kappa":1,"alpha":1,"beta":1}}""", "hazard.scale", new[] { "rate", "type" })]
    [InlineData("""{"name":"x","kind":"hmm","initialProbabilities":[1],"transition":[[1]],"emission":{"type":"poisson","rates":[1],"means":[1]}}""", "emission.means", new[] { "rates", "type" })]
    public void Build_UnknownNestedField_ListsTheVariantsFields(string json, string field, string[] known)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.Equal(known, Listed(e));
    }

    [Fact]
    public void Read_FieldTheShapeDoesNotDeclare_IsAProgrammingError()
    {
        using var doc = JsonDocument.Parse("""{"a":1,"b":2}""");
        var reader = new SpecReader(doc.RootElement) { Shape = SpecShape.Of("a") };
        Assert.Equal(1.0, reader.Number("a"));
        Assert.Throws<InvalidOperationException>(() => reader.Number("b"));
    }

    [Fact]
    public void FieldsFor_AbsentDiscriminator_UsesTheDefaultVariant()
    {
        var shape = SpecShape.Of().WithVariants("scheme", "merwe", ("merwe", SpecShape.Of("alpha")), ("julier", SpecShape.Of("kappa")));
        using var none = JsonDocument.Parse("{}");
        using var julier = JsonDocument.Parse("""{"scheme":"julier"}""");
        Assert.Equal(["scheme", "alpha"], shape.FieldsFor(none.RootElement));
        Assert.Equal(["scheme", "kappa"], shape.FieldsFor(julier.RootElement));
        Assert.Equal(["scheme", "alpha", "kappa"], shape.AllFields());
    }

    private static string[] Listed(ModelValidationException e)
    {
        var text = e.Problem;
        var start = text.IndexOf("(known: ", StringComparison.Ordinal) + "(known: ".Length;
        return text[start..text.IndexOf(')', start)].Split(", ");
    }
}
