namespace StreamSeq.Nab;

/// <summary>
/// The profile-independent part of NAB's per-row rewards for one file: for every row, the unweighted scaled-sigmoid
/// reward a detection there would earn, and the window the row belongs to.
/// </summary>
/// <remarks>
/// Inside window k spanning rows l..r (width w = r - l + 1), row i has position p = -(r - i + 1) / w and a detection
/// earns tpWeight * s(p) / s(-1): the full tpWeight at i = l, close to 0 at i = r.
/// Outside every window, a detection costs fpWeight * s(p') with p' = (i - r_prev) / (w_prev - 1) measured from the
/// preceding window, or the full -fpWeight when no window precedes the row.
/// The weighted reward is therefore <see cref="UnweightedReward"/> * tpWeight / s(-1) inside a window and
/// <see cref="UnweightedReward"/> * fpWeight outside.
/// </remarks>
internal sealed class FileRowModel
{
    internal FileRowModel(NabDataFile file)
    {
        var n = file.RowCount;
        UnweightedReward = new double[n];
        WindowIndex = new int[n];
        ProbationLength = file.ProbationLength;
        var starts = file.WindowStartRows;
        var ends = file.WindowEndRows;

        var next = 0;
        var current = -1;
        double currentWidth = 0;
        var previousEnd = -1;
        double previousWidth = 0;
        for (var i = 0; i < n; i++)
        {
            if (next < starts.Length && i == starts[next])
            {
                current = next++;
                currentWidth = ends[current] - starts[current] + 1;
            }

            if (current >= 0)
            {
                WindowIndex[i] = current;
                UnweightedReward[i] = ScaledSigmoid.Evaluate(-(double)(ends[current] - i + 1) / currentWidth);
            }
            else
            {
                WindowIndex[i] = -1;
                // A one-row preceding window gives 0 / 0 widths in NAB (an error there); here the position is
                // +infinity, i.e. the full false-positive cost.
                UnweightedReward[i] = previousEnd < 0
                    ? -1.0
                    : ScaledSigmoid.Evaluate(Math.Abs(previousEnd - i) / (previousWidth - 1.0));
            }

            if (current >= 0 && i == ends[current])
            {
                previousEnd = i;
                previousWidth = currentWidth;
                current = -1;
            }
        }

        FirstScoredRow = new int[starts.Length];
        for (var w = 0; w < starts.Length; w++)
        {
            FirstScoredRow[w] = ends[w] < ProbationLength ? -1 : Math.Max(starts[w], ProbationLength);
        }
    }

    /// <summary>s(p) inside a window, s(p') or -1 outside (see the class remarks).</summary>
    internal double[] UnweightedReward { get; }

    /// <summary>Index of the window holding each row, or -1 outside every window.</summary>
    internal int[] WindowIndex { get; }

    /// <summary>First row after probation of each window, or -1 when the whole window is probationary.</summary>
    internal int[] FirstScoredRow { get; }

    /// <summary>Rows before this one are probationary.</summary>
    internal int ProbationLength { get; }

    /// <summary>The weighted reward of a detection at <paramref name="row"/> under <paramref name="profile"/>.</summary>
    internal double Reward(int row, CostProfile profile) =>
        WindowIndex[row] >= 0
            ? UnweightedReward[row] * profile.TruePositiveWeight / ScaledSigmoid.MaxTruePositive
            : UnweightedReward[row] * profile.FalsePositiveWeight;
}
