using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Fans the worker's output records out to live observers (the dashboard) without ever blocking the processing loop:
/// observers receive copies and must buffer or drop on their own side.
/// </summary>
public sealed class OutputTap
{
    private volatile Action<OutputKind, string, byte[]>[] observers = [];

    /// <summary>True when somebody listens (the loop skips copying otherwise).</summary>
    public bool HasObservers => observers.Length > 0;

    /// <summary>Adds an observer; dispose the result to remove it.</summary>
    public IDisposable Subscribe(Action<OutputKind, string, byte[]> observer)
    {
        lock (this)
        {
            observers = [.. observers, observer];
        }

        return new Subscription(this, observer);
    }

    /// <summary>Called by the loop for each output record.</summary>
    public void Publish(OutputKind kind, ReadOnlySpan<char> stream, ReadOnlySpan<byte> record)
    {
        var current = observers;
        if (current.Length == 0)
        {
            return;
        }

        var id = stream.ToString();
        var bytes = record.ToArray();
        foreach (var o in current)
        {
            o(kind, id, bytes);
        }
    }

    private void Remove(Action<OutputKind, string, byte[]> observer)
    {
        lock (this)
        {
            observers = [.. observers.Where(o => o != observer)];
        }
    }

    private sealed class Subscription(OutputTap tap, Action<OutputKind, string, byte[]> observer) : IDisposable
    {
        public void Dispose() => tap.Remove(observer);
    }
}
