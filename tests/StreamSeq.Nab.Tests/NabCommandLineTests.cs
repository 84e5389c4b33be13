using System.Text.Json;
using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class NabCommandLineTests
{
    private static string[] Arguments(TempFolder folder, params string[] extra) =>
    [
        "score",
        "--data", Path.Combine(folder.Path, "data"),
        "--labels", Path.Combine(folder.Path, "labels/combined_windows.json"),
        "--profiles", Path.Combine(folder.Path, "config/profiles.json"),
        "--results", Path.Combine(folder.Path, "results"),
        "--detector", "det",
        "--json", Path.Combine(folder.Path, "out.json"),
        .. extra,
    ];

    [Fact]
    public void Run_WithThresholdsAndOptimize_PrintsBothAndWritesJson()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = NabCommandLine.Run(
            Arguments(folder, "--thresholds", Path.Combine(folder.Path, "config/thresholds.json"), "--optimize", "--files"),
            output,
            error);

        Assert.Equal(0, code);
        Assert.Contains("| det |", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("| det (optimised) |", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("| cat/worked.csv |", output.ToString(), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "out.json")));
        Assert.Equal(2, json.RootElement.GetArrayLength());
        var standard = json.RootElement[0].GetProperty("profiles")[0];
        Assert.Equal("standard", standard.GetProperty("profile").GetProperty("name").GetString());
        Assert.Equal(0.5, standard.GetProperty("threshold").GetDouble());
        Assert.Equal(2, standard.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public void Run_WithoutThresholds_Optimises()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = NabCommandLine.Run(Arguments(folder), output, error);

        Assert.Equal(0, code);
        Assert.Contains("optimised here", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingOption_IsAUsageError()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = NabCommandLine.Run(["score", "--data", "x"], output, error);

        Assert.Equal(2, code);
        Assert.Contains("--detector", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownDetectorResults_IsADataErrorNamingThePath()
    {
        using var folder = new TempFolder();
        SyntheticNabFolder.Write(folder);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var args = Arguments(folder);
        args[Array.IndexOf(args, "det")] = "ghost";

        var code = NabCommandLine.Run(args, output, error);

        Assert.Equal(1, code);
        Assert.Contains("ghost_worked.csv", error.ToString(), StringComparison.Ordinal);
    }
}
