using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// The calling thread's scratch memory that steps take temporary vectors from. A step that returns gives back what it
/// took; one that throws does not, so a caller that catches an exception from <see cref="IEstimator.Step"/> or
/// <see cref="IEstimator.Forecast"/> and goes on stepping takes <see cref="Mark"/> before the call and passes it to
/// <see cref="Release"/> after the exception. Without that, every failed step would keep its scratch for the life of the
/// thread.
/// </summary>
public static class StepScratch
{
    /// <summary>The thread's current scratch position.</summary>
    public static int Mark => ScratchArena.Current.Mark;

    /// <summary>Gives back every scratch slice the thread took after <paramref name="mark"/>.</summary>
    /// <param name="mark">A position read from <see cref="Mark"/> on this thread, before the call that failed.</param>
    public static void Release(int mark)
    {
        var arena = ScratchArena.Current;
        ArgumentOutOfRangeException.ThrowIfNegative(mark);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mark, arena.Mark);
        arena.Release(mark);
    }
}
