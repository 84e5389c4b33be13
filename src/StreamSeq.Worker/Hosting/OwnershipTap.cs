using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Fans the loop's news of owned streams (the streams of each restored partition, the partitions given up) out to live
/// observers (the dashboard lists the streams the worker owns), on the loop's thread: observers must only enqueue.
/// </summary>
public sealed class OwnershipTap : IStreamOwnershipObserver
{
    private volatile IStreamOwnershipObserver[] observers = [];
    private readonly Lock gate = new();

    /// <inheritdoc />
    public int MaxStreamsPerPartition
    {
        get
        {
            var most = 0;
            foreach (var o in observers)
            {
                most = Math.Max(most, o.MaxStreamsPerPartition);
            }

            return most;
        }
    }

    /// <summary>Adds an observer; dispose the result to remove it.</summary>
    public IDisposable Subscribe(IStreamOwnershipObserver observer)
    {
        lock (gate)
        {
            observers = [.. observers, observer];
        }

        return new Subscription(this, observer);
    }

    /// <inheritdoc />
    public void Restored(int partition, IReadOnlyList<OwnedStream> streams)
    {
        foreach (var o in observers)
        {
            o.Restored(partition, streams);
        }
    }

    /// <inheritdoc />
    public void Released(IReadOnlyCollection<int> partitions)
    {
        foreach (var o in observers)
        {
            o.Released(partitions);
        }
    }

    private void Remove(IStreamOwnershipObserver observer)
    {
        lock (gate)
        {
            observers = [.. observers.Where(o => o != observer)];
        }
    }

    private sealed class Subscription(OwnershipTap tap, IStreamOwnershipObserver observer) : IDisposable
    {
        public void Dispose() => tap.Remove(observer);
    }
}
