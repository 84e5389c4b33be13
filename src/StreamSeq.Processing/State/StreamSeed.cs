namespace StreamSeq.Processing.State;

/// <summary>Derives a stream's random seed from its id and the model seed (stable across processes and restarts).</summary>
public static class StreamSeed
{
    /// <summary>FNV-1a over the id's UTF-16 code units, mixed with the model seed by SplitMix64.</summary>
    public static ulong Derive(ReadOnlySpan<char> streamId, ulong modelSeed)
    {
        var h = 14695981039346656037UL;
        foreach (var c in streamId)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        var z = h + modelSeed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
