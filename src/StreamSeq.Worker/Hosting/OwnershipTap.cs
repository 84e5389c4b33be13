using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Fans the loop's news of owned streams (the streams of each restored partition, the partitions given up) out to live
/// observers (the dashboard lists the streams the worker owns), on the loop's thread: observers must only enqueue.
/// </summary>
public sealed class OwnershipTap : IStreamOwnershipObserver
{
    private readonly TapObservers<IStreamOwnershipObserver> observers = new();

    /// <inheritdoc />
    public int MaxStreamsPerPartition
    {
        get
        {
            var most = 0;
            foreach (var o in observers.Current)
            {
                most = Math.Max(most, o.MaxStreamsPerPartition);
            }

            return most;
        }
    }

    /// <summary>Adds an observer; dispose the result to remove it.</summary>
    public IDisposable Subscribe(IStreamOwnershipObserver observer) => observers.Add(observer);

    /// <inheritdoc />
    public void Restored(int partition, IReadOnlyList<OwnedStream> streams)
    {
        foreach (var o in observers.Current)
        {
            o.Restored(partition, streams);
        }
    }

    /// <inheritdoc />
    public void Released(IReadOnlyCollection<int> partitions)
    {
        foreach (var o in observers.Current)
        {
            o.Released(partitions);
        }
    }
}
