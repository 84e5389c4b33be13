namespace StreamSeq.Cli.Commands;

/// <summary>The options of one <c>streamseq plot</c> invocation.</summary>
internal sealed class PlotRequest
{
    public required string InputPath { get; init; }

    public string? ObservationsPath { get; init; }

    public string? ModelPath { get; init; }

    public required string OutputPath { get; init; }

    public IReadOnlyCollection<string> Streams { get; init; } = [];

    public bool Grid { get; init; }

    public string Format { get; init; } = "png";

    public int Component { get; init; }

    public int Width { get; init; } = 1000;

    public int Height { get; init; } = 420;
}
