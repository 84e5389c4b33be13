namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The observers of a tap, copied on write: the processing loop reads <see cref="Current"/> without a lock on every
/// record, and subscribing or unsubscribing replaces the array under one.
/// </summary>
/// <typeparam name="T">An observer (a delegate, or a registration record).</typeparam>
internal sealed class TapObservers<T>
    where T : class
{
    private volatile T[] items = [];
    private readonly Lock gate = new();

    /// <summary>The observers now (never changed in place).</summary>
    public T[] Current => items;

    /// <summary>Adds an observer; dispose the result to remove it (observers equal to it leave too).</summary>
    public IDisposable Add(T observer)
    {
        lock (gate)
        {
            items = [.. items, observer];
        }

        return new Subscription(this, observer);
    }

    private void Remove(T observer)
    {
        lock (gate)
        {
            items = [.. items.Where(o => !EqualityComparer<T>.Default.Equals(o, observer))];
        }
    }

    private sealed class Subscription(TapObservers<T> observers, T observer) : IDisposable
    {
        public void Dispose() => observers.Remove(observer);
    }
}
