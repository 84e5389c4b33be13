using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The Rauch–Tung–Striebel backward step shared by every Gaussian filter (Kalman, extended, unscented).
/// </summary>
/// <remarks>
/// Record layout (n states): filtered mean m_t (n), filtered covariance P_t (n×n), predicted mean m⁻_t (n),
/// predicted covariance P⁻_t (n×n), cross-covariance C_t = Cov(h_{t-1}, h_t | y_{1:t-1}) (n×n). Message: smoothed
/// mean and covariance. With G = C_{t+1} (P⁻_{t+1})⁻¹:
/// m^s_t = m_t + G (m^s_{t+1} − m⁻_{t+1}) and P^s_t = P_t + G (P^s_{t+1} − P⁻_{t+1}) G'.
/// For a linear model C_{t+1} = P_t F'; the unscented filter supplies the sigma-point cross-covariance.
/// </remarks>
public static class GaussianBackward
{
    /// <summary>A pivot of the predicted covariance's Cholesky factor at or below this fraction of its diagonal entry
    /// is taken for a direction it does not reach: a hundred times the factorisation's own rounding (n ε relative),
    /// as for the filter's positive semi-definiteness test after a fragile update.</summary>
    internal const double NegligiblePivot = 1e-13;

    /// <summary>Length of a record for n states.</summary>
    public static int RecordLength(int n) => (2 * n) + (3 * n * n);

    /// <summary>Length of a message for n states.</summary>
    public static int MessageLength(int n) => n + (n * n);

    /// <summary>Writes a forward record.</summary>
    public static void WriteRecord(
        int n,
        Span<double> record,
        ReadOnlySpan<double> filteredMean,
        ReadOnlySpan<double> filteredCovariance,
        ReadOnlySpan<double> predictedMean,
        ReadOnlySpan<double> predictedCovariance,
        ReadOnlySpan<double> crossCovariance)
    {
        var nn = n * n;
        filteredMean.CopyTo(record[..n]);
        filteredCovariance.CopyTo(record.Slice(n, nn));
        predictedMean.CopyTo(record.Slice(n + nn, n));
        predictedCovariance.CopyTo(record.Slice(n + nn + n, nn));
        crossCovariance.CopyTo(record.Slice(n + nn + n + nn, nn));
    }

    /// <summary>One backward step: the message for t+1 becomes the message for t.</summary>
    public static void Step(int n, ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message) =>
        Step(n, record, nextRecord, message, default);

    /// <summary>One backward step that also returns the smoother gain transposed, G' (n×n), when
    /// <paramref name="gainTransposed"/> is not empty (EM needs it for the lag-one smoothed cross-covariance
    /// Cov(h_{t+1}, h_t | y_{1:T}) = P^s_{t+1} G').</summary>
    internal static void Step(int n, ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message, Span<double> gainTransposed)
    {
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var fm = record[..n];
        var fc = record.Slice(n, nn);
        var npm = nextRecord.Slice(n + nn, n);
        var npc = nextRecord.Slice(n + nn + n, nn);
        var ncross = nextRecord.Slice(n + nn + n + nn, nn);

        // G' = (P⁻_{t+1})⁻¹ C'_{t+1}: solve with the symmetric predicted covariance.
        var gt = arena.Take(nn);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                gt[(i * n) + j] = ncross[(j * n) + i];
            }
        }

        // A singular P⁻ (no noise on some direction and a prior or filtered covariance without it, as with a zero
        // transition noise and a rank-deficient prior) still carries information backwards: C' lies in its range,
        // and so do the differences dm and dp below, so any solution of P⁻ G' = C' gives the same smoothed moments.
        // The semi-definite factor drops the directions P⁻ does not reach instead of dividing by their rounding.
        var l = arena.Take(nn);
        npc.CopyTo(l);
        if (Dense.SemidefiniteCholesky(l, n, NegligiblePivot))
        {
            Dense.SemidefiniteCholeskySolve(l, n, gt, n);
        }
        else
        {
            // A non-finite predicted covariance: the smoothed step is the filtered one.
            gt.Clear();
        }

        var dm = arena.Take(n);
        for (var i = 0; i < n; i++)
        {
            dm[i] = message[i] - npm[i];
        }

        var dp = arena.Take(nn);
        var ms = message.Slice(n, nn);
        for (var i = 0; i < nn; i++)
        {
            dp[i] = ms[i] - npc[i];
        }

        // mean = m_t + G dm, with G = gt'.
        for (var i = 0; i < n; i++)
        {
            var s = fm[i];
            for (var j = 0; j < n; j++)
            {
                s += gt[(j * n) + i] * dm[j];
            }

            message[i] = s;
        }

        // cov = P_t + G dp G' = P_t + gt' dp gt.
        var tmp = arena.Take(nn);
        Dense.TransposedMultiply(gt, n, n, dp, n, tmp);
        Dense.Multiply(tmp, n, n, gt, n, ms);
        for (var i = 0; i < nn; i++)
        {
            ms[i] += fc[i];
        }

        Dense.Symmetrize(ms, n);
        if (!gainTransposed.IsEmpty)
        {
            gt.CopyTo(gainTransposed);
        }

        arena.Release(mark);
    }
}
