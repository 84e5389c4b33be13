using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Plotting;

/// <summary>The README example run (examples/sensors.*, lag 5, horizon 2), made once for all plot tests.</summary>
public sealed class SensorsRun : IDisposable
{
    public SensorsRun()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("streamseq-plot-").FullName;
        Output = System.IO.Path.Combine(Directory, "out.jsonl");
        var code = RunCommand.Execute(Model, Observations, Output, 5, 2, false, 0, false, null, TextWriter.Null, TextWriter.Null);
        Assert.Equal(0, code);
    }

    public static string Model => RepositoryFiles.Path("examples", "sensors.json");

    public static string Observations => RepositoryFiles.Path("examples", "sensors.csv");

    public string Directory { get; }

    public string Output { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>Plot tests share one run of the example.</summary>
[CollectionDefinition(Name)]
public sealed class SensorsRunCollection : ICollectionFixture<SensorsRun>
{
    public const string Name = "sensors run";
}
