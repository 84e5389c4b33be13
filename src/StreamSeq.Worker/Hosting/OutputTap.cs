using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Fans the worker's output records out to live observers (the dashboard) without ever blocking the processing loop:
/// observers receive copies and must buffer or drop on their own side.
/// </summary>
public sealed class OutputTap
{
    private readonly TapObservers<Registration> observers = new();

    /// <summary>True when somebody listens (the loop skips copying otherwise).</summary>
    public bool HasObservers => observers.Current.Length > 0;

    /// <summary>
    /// Adds an observer of every output record, or only of records of <paramref name="kind"/> (others are then not
    /// even copied for it); dispose the result to remove it.
    /// </summary>
    public IDisposable Subscribe(Action<OutputKind, string, byte[]> observer, OutputKind? kind = null) =>
        observers.Add(new Registration(observer, kind));

    /// <summary>Called by the loop for each output record.</summary>
    public void Publish(OutputKind kind, ReadOnlySpan<char> stream, ReadOnlySpan<byte> record)
    {
        var current = observers.Current;
        string? id = null;
        byte[]? bytes = null;
        foreach (var o in current)
        {
            if (o.Kind is { } only && only != kind)
            {
                continue;
            }

            id ??= stream.ToString();
            bytes ??= record.ToArray();
            o.Observer(kind, id, bytes);
        }
    }

    private sealed record Registration(Action<OutputKind, string, byte[]> Observer, OutputKind? Kind);
}
