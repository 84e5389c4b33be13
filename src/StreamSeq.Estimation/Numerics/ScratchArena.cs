namespace StreamSeq.Estimation.Numerics;

/// <summary>
/// Per-thread bump allocator for temporary vectors and matrices of a step, so steps allocate nothing once the
/// buffer has grown to the largest model seen on the thread.
/// </summary>
/// <remarks>Take slices, then <see cref="Release"/> back to the mark taken before them. Growing moves new slices
/// to a larger array; slices already taken keep the old array alive and stay valid.</remarks>
internal sealed class ScratchArena
{
    [ThreadStatic]
    private static ScratchArena? current;

    private double[] buffer = new double[1024];
    private int top;

    /// <summary>The calling thread's arena.</summary>
    public static ScratchArena Current => current ??= new ScratchArena();

    /// <summary>The current position, to pass to <see cref="Release"/>.</summary>
    public int Mark => top;

    /// <summary>Returns a zero-filled slice of <paramref name="length"/> doubles.</summary>
    public Span<double> Take(int length)
    {
        if (top + length > buffer.Length)
        {
            buffer = new double[Math.Max(buffer.Length * 2, top + length)];
        }

        var slice = buffer.AsSpan(top, length);
        slice.Clear();
        top += length;
        return slice;
    }

    /// <summary>
    /// Returns a slice of <paramref name="length"/> doubles with whatever values it last held: only for callers that
    /// write every element before reading it (hot paths, where clearing would cost as much as the work).
    /// </summary>
    public Span<double> TakeUninitialized(int length)
    {
        if (top + length > buffer.Length)
        {
            buffer = new double[Math.Max(buffer.Length * 2, top + length)];
        }

        var slice = buffer.AsSpan(top, length);
        top += length;
        return slice;
    }

    /// <summary>Frees every slice taken after <paramref name="mark"/>.</summary>
    public void Release(int mark) => top = mark;
}
