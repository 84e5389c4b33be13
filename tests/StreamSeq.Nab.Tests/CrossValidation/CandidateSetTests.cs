using System.Text.Json.Nodes;
using StreamSeq.Nab.CrossValidation;

namespace StreamSeq.Nab.Tests.CrossValidation;

public sealed class CandidateSetTests
{
    [Fact]
    public void Parse_BaseAndOverrides_EachCandidateIsTheBaseWithItsOverrides()
    {
        var json = JsonNode.Parse("""
            {"base": {"timeUnit": "PT1S", "levelDiscount": 0.95, "warmupLength": 16},
             "candidates": [{"name": "a"}, {"name": "b", "settings": {"levelDiscount": 0.9, "switchingRate": 0.05}}]}
            """);

        var candidates = CandidateSet.Parse(json, "test");

        Assert.Equal(["a", "b"], candidates.Select(c => c.Name));
        Assert.Equal("""{"timeUnit":"PT1S","levelDiscount":0.95,"warmupLength":16}""", candidates[0].Settings.ToJsonString());
        Assert.Equal("""{"timeUnit":"PT1S","levelDiscount":0.9,"warmupLength":16,"switchingRate":0.05}""", candidates[1].Settings.ToJsonString());
        Assert.Equal(0.9, candidates[1].Spec().Reader().Number("levelDiscount"));
    }

    [Fact]
    public void CanonicalSettings_KeyOrder_DoesNotMatter()
    {
        var a = new DetectorCandidate("a", JsonNode.Parse("""{"x": 1, "y": {"b": 2, "a": [1, 2]}}""")!.AsObject());
        var b = new DetectorCandidate("b", JsonNode.Parse("""{"y": {"a": [1, 2], "b": 2}, "x": 1}""")!.AsObject());

        Assert.Equal(a.CanonicalSettings(), b.CanonicalSettings());
    }

    [Theory]
    [InlineData("""{"candidates": []}""", "non-empty")]
    [InlineData("""{"candidates": [{"name": "a"}, {"name": "a"}]}""", "appears twice")]
    [InlineData("""{"candidates": [{"settings": {}}]}""", "candidates[0] needs a non-empty 'name'")]
    [InlineData("""{"candidates": [{"name": "a", "settings": {"thresholds": {}}}]}""", "may not set 'thresholds'")]
    [InlineData("""{"base": {"kind": "hmm"}, "candidates": [{"name": "a"}]}""", "base may not set 'kind'")]
    [InlineData("""{"grid": {}, "candidates": [{"name": "a"}]}""", "unknown field 'grid'")]
    [InlineData("""[1, 2]""", "expected an object")]
    public void Parse_BadFile_NamesTheProblem(string json, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => CandidateSet.Parse(JsonNode.Parse(json), "test.json"));

        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.json", e.Message, StringComparison.Ordinal);
    }
}
