namespace StreamSeq.Processing.Models;

/// <summary>Maps streams to a model: by a stream-id glob (<c>*</c>, <c>?</c>) and/or a route key (such as a
/// sensor-type header). Both given means both must match.</summary>
/// <param name="Model">The model name.</param>
/// <param name="StreamPattern">Glob over stream ids, or null for any.</param>
/// <param name="RouteKey">Exact route key, or null for any.</param>
public sealed record ModelRoute(string Model, string? StreamPattern = null, string? RouteKey = null);
