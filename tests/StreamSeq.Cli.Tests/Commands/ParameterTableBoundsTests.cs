using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// <c>run --parameters-in</c> with starting variances near the largest double. Such a value is finite, so the table
/// accepted it, but the first reading adds it to another variance: before, the stream's predicted and observation
/// variances were "Infinity" in every record after the first and a later <c>--parameters-out</c> had a null sd.
/// </summary>
public sealed class ParameterTableBoundsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-table-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Fleet => RepositoryFiles.Path("examples", "adaptive-fleet.json");

    private static string FleetCsv => RepositoryFiles.Path("examples", "adaptive-fleet.csv");

    private static (int Code, string Errors) Invoke(params string[] args) => InProcessCli.Invoke(args);

    private string Table(string secondRowParameters)
    {
        var path = Path.Combine(dir, "table.jsonl");
        File.WriteAllLines(path, [
            """{"stream":"sensor-01","model":"pressure-fleet","parameters":{"observationNoise":[[0.03]]}}""",
            "{\"stream\":\"sensor-00\",\"model\":\"pressure-fleet\",\"parameters\":{" + secondRowParameters + "}}",
        ]);
        return path;
    }

    [Theory]
    [InlineData("\"observationNoise\":{\"value\":[[1.7e308]]}", "parameters.observationNoise[0][0]", "1.7E+308")]
    [InlineData("\"observationNoise\":[[9e307]]", "parameters.observationNoise[0][0]", "9E+307")]
    [InlineData("\"components[0].levelNoise\":{\"value\":1e308}", "parameters.components[0].levelNoise", "1E+308")]
    public void Run_StartingVarianceTooLargeToAddToAnother_IsRefusedNamingFileLineAndField(string parameters, string field, string shown)
    {
        var table = Table(parameters);
        var output = Path.Combine(dir, "out.jsonl");
        var parametersOut = Path.Combine(dir, "learned.jsonl");

        var (code, errors) = Invoke("run", "-m", Fleet, "-i", FleetCsv, "-o", output, "--parameters-in", table, "--parameters-out", parametersOut);

        Assert.Equal(1, code);
        Assert.Contains($"table.jsonl:2: {field}: ", errors, StringComparison.Ordinal);
        Assert.Contains("at most 1E+300", errors, StringComparison.Ordinal);
        Assert.Contains(shown, errors, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(parametersOut));
    }

    [Fact]
    public void Run_StartingVarianceAtTheLimit_RunsWithFiniteVariancesAfterTheDiffuseStart()
    {
        var table = Table("\"observationNoise\":[[1e300]]");
        var output = Path.Combine(dir, "out.jsonl");
        var parametersOut = Path.Combine(dir, "learned.jsonl");

        var (code, errors) = Invoke("run", "-m", Fleet, "-i", FleetCsv, "-o", output, "--parameters-in", table, "--parameters-out", parametersOut);

        Assert.True(code == 0, errors);
        var records = File.ReadAllLines(output).Where(l => l.Contains("\"stream\":\"sensor-00\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(400, records.Count);

        // Only the diffuse start has an infinite variance, as documented; the stream never restarts.
        Assert.All(records.Where(r => r.Contains("Infinity", StringComparison.Ordinal)), r => Assert.Contains("\"diffuse\"", r, StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Contains("reinitialized", StringComparison.Ordinal));
        var learned = Assert.Single(File.ReadAllLines(parametersOut), l => l.Contains("\"stream\":\"sensor-00\"", StringComparison.Ordinal));
        Assert.DoesNotContain("null", learned, StringComparison.Ordinal);
    }
}
