namespace StreamSeq.Worker.Configuration;

/// <summary>One routing rule (section <c>StreamSeq:Routes:n</c>): streams matching go to <see cref="Model"/>.</summary>
public sealed class RouteSettings
{
    /// <summary>Model name.</summary>
    public string Model { get; set; } = string.Empty;

    /// <summary>Glob over stream ids (<c>*</c>, <c>?</c>), or empty for any.</summary>
    public string? StreamPattern { get; set; }

    /// <summary>Exact value of the route header (<c>StreamSeq:Kafka:RouteHeader</c>), or empty for any.</summary>
    public string? RouteKey { get; set; }
}
