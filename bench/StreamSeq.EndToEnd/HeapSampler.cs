namespace StreamSeq.EndToEnd;

/// <summary>Samples the managed heap (live objects and garbage not yet collected) five times a second and keeps the highest.</summary>
internal sealed class HeapSampler : IDisposable
{
    private readonly Timer timer;
    private long peak;

    public HeapSampler() => timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(200));

    public long Peak
    {
        get
        {
            Sample();
            return Interlocked.Read(ref peak);
        }
    }

    public void Dispose() => timer.Dispose();

    private void Sample()
    {
        var now = GC.GetTotalMemory(forceFullCollection: false);
        long seen;
        do
        {
            seen = Interlocked.Read(ref peak);
        }
        while (now > seen && Interlocked.CompareExchange(ref peak, now, seen) != seen);
    }
}
