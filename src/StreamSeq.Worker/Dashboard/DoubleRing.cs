namespace StreamSeq.Worker.Dashboard;

/// <summary>
/// A fixed-capacity ring of rows of doubles (one flat array, no allocation per row): the newest
/// <see cref="Capacity"/> rows of a series, oldest first. Not thread-safe; the owning view locks.
/// </summary>
internal sealed class DoubleRing(int stride, int capacity)
{
    private readonly double[] data = new double[stride * capacity];
    private int start;

    public int Stride { get; } = stride;

    public int Capacity { get; } = capacity;

    public int Count { get; private set; }

    /// <summary>Appends a row (shorter rows are padded with NaN), overwriting the oldest when full.</summary>
    public void Add(ReadOnlySpan<double> row)
    {
        int index;
        if (Count < Capacity)
        {
            index = (start + Count) % Capacity;
            Count++;
        }
        else
        {
            index = start;
            start = (start + 1) % Capacity;
        }

        var target = data.AsSpan(index * Stride, Stride);
        target.Fill(double.NaN);
        row[..Math.Min(row.Length, Stride)].CopyTo(target);
    }

    /// <summary>Row <paramref name="i"/>, 0 being the oldest kept.</summary>
    public ReadOnlySpan<double> Row(int i) => data.AsSpan(((start + i) % Capacity) * Stride, Stride);

    /// <summary>The newest row, or empty.</summary>
    public ReadOnlySpan<double> Last => Count == 0 ? default : Row(Count - 1);

    public void Clear()
    {
        start = 0;
        Count = 0;
    }
}
