namespace StreamSeq.EndToEnd;

/// <summary>How much work each scenario does.</summary>
internal sealed record HarnessSizes(
    int Streams,
    int Rounds,
    int Pairs,
    TimeSpan LatencyWarmUp,
    TimeSpan LatencyDuration,
    int MemoryStreams,
    int RestoreStreams,
    int RestoreRepeats)
{
    /// <summary>About two minutes on two cores: the documented quick run.</summary>
    public static HarnessSizes Quick { get; } = new(10_000, 10, 2, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10), 100_000, 100_000, 3);

    /// <summary>Longer runs and more repeats (input stays under the embedded broker's 5 MiB per partition).</summary>
    public static HarnessSizes Full { get; } = new(10_000, 20, 3, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), 200_000, 150_000, 5);
}
