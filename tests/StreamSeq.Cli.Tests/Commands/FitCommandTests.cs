using StreamSeq.Testing;
using System.Text.Json;
using StreamSeq.Cli.Commands;

namespace StreamSeq.Cli.Tests.Commands;

public sealed class FitCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-fit-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Execute_NileDiffuse_RecoversPublishedVariancesAndLogLikelihood()
    {
        var output = System.IO.Path.Combine(dir, "fitted.json");
        var code = FitCommand.Execute(RepositoryFiles.Path("examples", "nile-diffuse.json"), RepositoryFiles.Path("examples", "nile.csv"), output, ["observationNoise", "transitionNoise"], "mle", 500, 0, TextWriter.Null);
        Assert.Equal(0, code);
        var fitted = JsonDocument.Parse(File.ReadAllText(output)).RootElement;
        var eps = fitted.GetProperty("observationNoise")[0][0].GetDouble();
        var eta = fitted.GetProperty("transitionNoise")[0][0].GetDouble();

        // Durbin & Koopman: 15099 and 1469.1; the exact-diffuse MLE of the oracle is 15098.52 and 1469.18, loglik -633.4645636.
        Assert.InRange(eps, 15098.52 * (1 - 1e-4), 15098.52 * (1 + 1e-4));
        Assert.InRange(eta, 1469.18 * (1 - 1e-4), 1469.18 * (1 + 1e-4));
        Assert.Equal(-633.4645636362455, fitted.GetProperty("fit").GetProperty("logLikelihood").GetDouble(), 6);
        Assert.Equal("mle", fitted.GetProperty("fit").GetProperty("method").GetString());

        // The written spec is a valid model again (the fit section is allowed metadata).
        var again = System.IO.Path.Combine(dir, "out.jsonl");
        Assert.Equal(0, RunCommand.Execute(output, RepositoryFiles.Path("examples", "nile.csv"), again, 0, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public void Execute_UnknownParameter_FailsNamingIt()
    {
        var errors = new StringWriter();
        var code = CliErrors.Run(errors, "nile-diffuse.json", () => FitCommand.Execute(RepositoryFiles.Path("examples", "nile-diffuse.json"), RepositoryFiles.Path("examples", "nile.csv"), System.IO.Path.Combine(dir, "f.json"), ["observationNoize"], "mle", 10, 0, TextWriter.Null));
        Assert.Equal(1, code);
        Assert.Contains("observationNoize", errors.ToString(), StringComparison.Ordinal);
    }
}
