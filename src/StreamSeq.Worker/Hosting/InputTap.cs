namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Fans the worker's input records (stream id, raw value, Kafka timestamp) out to live observers (the dashboard draws
/// the readings themselves) without blocking the processing loop: observers receive copies and must only enqueue.
/// </summary>
public sealed class InputTap
{
    private readonly TapObservers<Action<string, byte[], double, int>> observers = new();

    /// <summary>True when somebody listens.</summary>
    public bool HasObservers => observers.Current.Length > 0;

    /// <summary>
    /// Adds an observer of (stream id, record value, Kafka timestamp in epoch ms or NaN, input partition or -1 when
    /// unknown); dispose the result to remove it.
    /// </summary>
    public IDisposable Subscribe(Action<string, byte[], double, int> observer) => observers.Add(observer);

    /// <summary>Called by the loop for each input record it took in (never a dead-lettered record or a dropped duplicate).</summary>
    public void Publish(ReadOnlySpan<char> stream, ReadOnlySpan<byte> value, double timestampMilliseconds, int partition = -1)
    {
        var current = observers.Current;
        if (current.Length == 0 || stream.IsEmpty)
        {
            return;
        }

        var id = stream.ToString();
        var bytes = value.ToArray();
        foreach (var o in current)
        {
            o(id, bytes, timestampMilliseconds, partition);
        }
    }
}
