using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The backward step of the Kalman filter for models with an exact diffuse start: the exact limit κ → ∞ of the
/// Rauch–Tung–Striebel step inside the diffuse period, and the former finite stand-in κ = <see cref="StandInScale"/>
/// where the limit is not what the records describe (after the reading budget's fallback, or when the message itself
/// still holds a diffuse part).
/// </summary>
/// <remarks>
/// <para><b>Record.</b> The first <see cref="GaussianBackward.RecordLength"/> numbers are laid out as
/// <see cref="GaussianBackward"/>'s, but hold the finite parts only: m_t, P_*,t, m⁻_t, P⁻_*,t and C_*,t = P_*,t−1 F'.
/// Then the filtered factor A_t (n×n, its first r_t columns in use), the predicted factor B_t = F A_t−1 (n×n), and
/// four numbers: r_t (0 when the filtered state is proper), the predicted rank (0 when the predicted state is proper),
/// 1 when the step was inside the exact diffuse period (the reading budget not yet spent), and 1 when the C slot holds
/// the whole cross-covariance (the step that took the fallback prior, where P_*,t−1 changed before predicting). The
/// stand-in record of the former layout is P + κ A A', P⁻ + κ B B' and C + κ A_t−1 B_t', rebuilt here bit for bit.</para>
/// <para><b>Former records.</b> A record of the former layout (<see cref="GaussianBackward.RecordLength"/> numbers, the
/// stand-in κ parts folded into P, P⁻ and C), restored from a state the previous build saved, is converted by
/// <see cref="UpgradeFormer"/>: its numbers as they are, ranks 0 (nothing to add), the last flag
/// <see cref="FormerLayout"/>, and, for the newest record of a window still diffuse, the filtered factor A of the saved
/// filter state, which the next record written by this build needs for the κ part of its cross-covariance. A backward
/// pass over a window holding such a record starts with <see cref="StartAsFormer"/>: the message carries the stand-in
/// flag and no undetermined directions, so every step of the pass is the stand-in step, which is the former build's
/// step bit for bit, and nothing is reported as infinite (the former build never did).</para>
/// <para><b>Exact step.</b> With P_t = P_* + κ A A', C = C_* + κ A B', P⁻ = S + κ B B' and B = U₁ T (QR, U = [U₁ U₂]
/// orthogonal, T r×r upper triangular and invertible), condition h_t on h_t+1 in the rotated coordinates U'h_t+1:
/// first on the finite block (S₂₂, cross-covariance c₂ = C_* U₂), then on the diffuse block. As κ → ∞ this leaves
/// the gain G = K U₁' + (c₂ − K S₁₂) S₂₂⁻¹ U₂' with K = A T⁻¹, and the conditional covariance
/// Σ = P_* − c₂ S₂₂⁻¹ c₂' − D K' − K D' + K W K' with D = C_* U₁ − c₂ S₂₂⁻¹ S₂₁ and W = S₁₁ − S₁₂ S₂₂⁻¹ S₂₁
/// (the matrix form of the diffuse update, Durbin &amp; Koopman 2012 §5.2). Then m^s_t = m_t + G (m^s_t+1 − m⁻_t+1)
/// and P^s_t = Σ + G P^s_t+1 G', which is the exact diffuse smoother (their §5.3) whenever the message for t+1 is
/// finite. Needs T invertible (F does not annihilate an undetermined direction) and S₂₂ positive definite; otherwise
/// the step falls back to the stand-in.</para>
/// <para><b>Message.</b> Mean, covariance, a flag that is 1 when the covariance carries the stand-in κ (it started
/// from a record still diffuse: a series, or a fixed-lag window, that ends before the data determine every direction),
/// and a factor E (n×n) of the directions the whole series leaves undetermined: the last filtered factor, mapped back by
/// the exact gain, E_t = G E_t+1 (cleared where that gain does not exist, or after the fallback, whose records state a
/// finite variance instead). The exact step runs only on a message without the flag; <see cref="Read"/> writes ±∞
/// where E E' is not negligible, with the filtered records' rule.</para>
/// </remarks>
internal static class DiffuseSmoothing
{
    /// <summary>κ of the finite stand-in for the diffuse part where the exact step does not apply.</summary>
    public const double StandInScale = 1e10;

    /// <summary>Smallest |T_kk| relative to the largest for which F A is treated as of full column rank.</summary>
    private const double RankTolerance = 1e-12;

    /// <summary>The last of the four numbers of a record converted from the former layout (<see cref="UpgradeFormer"/>);
    /// records written by this build hold 0 or 1 there.</summary>
    public const double FormerLayout = 2.0;

    /// <summary>Length of a record for n states.</summary>
    public static int RecordLength(int n) => GaussianBackward.RecordLength(n) + (2 * n * n) + 4;

    /// <summary>Length of a message for n states.</summary>
    public static int MessageLength(int n) => GaussianBackward.MessageLength(n) + 1 + (n * n);

    /// <summary>Offset of the filtered factor A_t.</summary>
    public static int FilteredFactorOffset(int n) => GaussianBackward.RecordLength(n);

    /// <summary>Offset of the predicted factor B_t.</summary>
    public static int PredictedFactorOffset(int n) => GaussianBackward.RecordLength(n) + (n * n);

    /// <summary>Offset of the four numbers (filtered rank, predicted rank, exact, whole C).</summary>
    public static int MetaOffset(int n) => GaussianBackward.RecordLength(n) + (2 * n * n);

    /// <summary>The message of the newest step: the filtered moments, with the stand-in κ on a diffuse part.</summary>
    public static void Start(int n, ReadOnlySpan<double> record, Span<double> message)
    {
        var nn = n * n;
        record[..(n + nn)].CopyTo(message);
        var rank = (int)record[MetaOffset(n)];
        if (rank > 0)
        {
            DiffuseInitialization.AddOuter(message.Slice(n, nn), record.Slice(FilteredFactorOffset(n), nn), n, StandInScale);
        }

        message[n + nn] = rank > 0 ? 1.0 : 0.0;
        var undetermined = message.Slice(n + nn + 1, nn);
        if (rank > 0 && record[MetaOffset(n) + 2] != 0.0)
        {
            record.Slice(FilteredFactorOffset(n), nn).CopyTo(undetermined);
        }
        else
        {
            undetermined.Clear();
        }
    }

    /// <summary>
    /// Converts a record of the former layout (<see cref="GaussianBackward.RecordLength"/> numbers, the stand-in κ parts
    /// folded in) to this one; <paramref name="filteredFactor"/> (n×n, or empty) is the filtered factor A of the newest
    /// record of a window still diffuse.
    /// </summary>
    public static void UpgradeFormer(int n, ReadOnlySpan<double> former, ReadOnlySpan<double> filteredFactor, Span<double> record)
    {
        var length = GaussianBackward.RecordLength(n);
        former[..length].CopyTo(record);
        record[length..].Clear();
        if (!filteredFactor.IsEmpty)
        {
            filteredFactor[..(n * n)].CopyTo(record.Slice(FilteredFactorOffset(n), n * n));
        }

        record[MetaOffset(n) + 3] = FormerLayout;
    }

    /// <summary>True for a record converted from the former layout (<see cref="UpgradeFormer"/>).</summary>
    public static bool IsFormer(int n, ReadOnlySpan<double> record) => record[MetaOffset(n) + 3] == FormerLayout;

    /// <summary><see cref="Start"/> for a pass over a window holding records of the former layout: the stand-in flag
    /// set and no undetermined directions, so that the pass is the former build's, bit for bit.</summary>
    public static void StartAsFormer(int n, ReadOnlySpan<double> record, Span<double> message)
    {
        var nn = n * n;
        Start(n, record, message);
        message[n + nn] = 1.0;
        message.Slice(n + nn + 1, nn).Clear();
    }

    /// <summary>
    /// The smoothed moments of a message: its mean and covariance, with ±∞ (the filtered records' rule,
    /// <see cref="DiffuseInitialization.MarkState"/>) where the directions the whole series leaves undetermined make
    /// the exact variance infinite.
    /// </summary>
    public static void Read(int n, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        var nn = n * n;
        message[..n].CopyTo(mean);
        message.Slice(n, nn).CopyTo(covariance);
        var undetermined = message.Slice(n + nn + 1, nn);
        if (message[n + nn] != 0.0 && DiffuseInitialization.Trace(undetermined, n) > 0.0)
        {
            var arena = ScratchArena.Current;
            var mark = arena.Mark;
            DiffuseInitialization.MarkState(covariance, undetermined, n, arena.Take(nn));
            arena.Release(mark);
        }
    }

    /// <summary>One backward step; <paramref name="gainTransposed"/> (n×n, may be empty) receives G'.</summary>
    public static void Step(int n, ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message, Span<double> gainTransposed)
    {
        var nn = n * n;
        var meta = MetaOffset(n);
        var filteredRank = (int)record[meta];
        var exact = record[meta + 2] != 0.0;
        var predictedRank = (int)nextRecord[meta + 1];
        var nextExact = nextRecord[meta + 2] != 0.0;
        var wholeCross = nextRecord[meta + 3] != 0.0;
        var standIn = message[n + nn] != 0.0;
        var eligible = filteredRank > 0 && exact && nextExact && !wholeCross && predictedRank == filteredRank;
        if (!standIn && eligible && ExactStep(n, filteredRank, record, nextRecord, message, gainTransposed))
        {
            return;
        }

        if (filteredRank == 0 && predictedRank == 0)
        {
            // Both records hold no diffuse part: they are the stand-in records already.
            GaussianBackward.Step(n, record, nextRecord, message, gainTransposed);
        }
        else
        {
            var arena = ScratchArena.Current;
            var mark = arena.Mark;
            var length = GaussianBackward.RecordLength(n);
            var current = arena.Take(length);
            var next = arena.Take(length);
            StandIn(n, record, record, current, predicted: false);
            StandIn(n, record, nextRecord, next, predicted: true);
            GaussianBackward.Step(n, current, next, message, gainTransposed);
            arena.Release(mark);
        }

        message[n + nn] = standIn || filteredRank > 0 ? 1.0 : 0.0;

        // The directions still undetermined at t+1 by the whole series map back through the exact gain: E_t = G E_t+1.
        var undetermined = message.Slice(n + nn + 1, nn);
        if (!standIn || DiffuseInitialization.Trace(undetermined, n) == 0.0)
        {
            undetermined.Clear();
            return;
        }

        var scratch = ScratchArena.Current;
        var start = scratch.Mark;
        var g = scratch.Take(nn);
        var sigma = scratch.Take(nn);
        var mapped = scratch.Take(nn);
        if (eligible && ExactGain(n, filteredRank, record, nextRecord, g, sigma))
        {
            Dense.Multiply(g, n, n, undetermined, n, mapped);
            mapped.CopyTo(undetermined);
        }
        else
        {
            undetermined.Clear();
        }

        scratch.Release(start);
    }

    /// <summary>The former record of <paramref name="source"/> (its diffuse parts at κ = <see cref="StandInScale"/>):
    /// the filtered part, or (<paramref name="predicted"/>) the predicted one and the cross-covariance, whose κ part
    /// needs <paramref name="previous"/>, the record before it.</summary>
    private static void StandIn(int n, ReadOnlySpan<double> previous, ReadOnlySpan<double> source, Span<double> target, bool predicted)
    {
        var nn = n * n;
        var meta = MetaOffset(n);
        source[..GaussianBackward.RecordLength(n)].CopyTo(target);
        if (!predicted)
        {
            if (source[meta] > 0.0)
            {
                DiffuseInitialization.AddOuter(target.Slice(n, nn), source.Slice(FilteredFactorOffset(n), nn), n, StandInScale);
            }

            return;
        }

        if (source[meta + 1] > 0.0)
        {
            var predictedFactor = source.Slice(PredictedFactorOffset(n), nn);
            DiffuseInitialization.AddOuter(target.Slice((2 * n) + nn, nn), predictedFactor, n, StandInScale);
            if (source[meta + 3] == 0.0)
            {
                var arena = ScratchArena.Current;
                var mark = arena.Mark;
                var fp = arena.Take(nn);
                Dense.MultiplyTransposed(previous.Slice(FilteredFactorOffset(n), nn), n, n, predictedFactor, n, fp);
                var cross = target.Slice((2 * n) + (2 * nn), nn);
                for (var i = 0; i < nn; i++)
                {
                    cross[i] += StandInScale * fp[i];
                }

                arena.Release(mark);
            }
        }
    }

    /// <summary>The exact limits of the gain G and of the conditional covariance Σ of the backward step from
    /// <paramref name="nextRecord"/> to <paramref name="record"/> (see the class remarks); false when they do not exist
    /// as computed here (F A of lower rank than A, or S₂₂ not positive definite).</summary>
    private static bool ExactGain(int n, int r, ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> g, Span<double> sigma)
    {
        var nn = n * n;
        var p = n - r;
        var pstar = record.Slice(n, nn);
        var a = record.Slice(FilteredFactorOffset(n), nn);
        var s = nextRecord.Slice((2 * n) + nn, nn);
        var cstar = nextRecord.Slice((2 * n) + (2 * nn), nn);
        var b = nextRecord.Slice(PredictedFactorOffset(n), nn);

        var arena = ScratchArena.Current;
        var mark = arena.Mark;

        // Householder QR of B (n×r): B = U [T; 0], U accumulated in u (n×n).
        var u = arena.Take(nn);
        Dense.Identity(u, n);
        var w = arena.Take(n * r);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < r; j++)
            {
                w[(i * r) + j] = b[(i * n) + j];
            }
        }

        var v = arena.Take(n);
        var largest = 0.0;
        for (var k = 0; k < r; k++)
        {
            var norm = 0.0;
            for (var i = k; i < n; i++)
            {
                norm += w[(i * r) + k] * w[(i * r) + k];
            }

            norm = Math.Sqrt(norm);
            if (!(norm > 0.0) || !double.IsFinite(norm))
            {
                arena.Release(mark);
                return false;
            }

            var alpha = w[(k * r) + k] >= 0.0 ? -norm : norm;
            var vv = 0.0;
            for (var i = k; i < n; i++)
            {
                v[i] = w[(i * r) + k] - (i == k ? alpha : 0.0);
                vv += v[i] * v[i];
            }

            var beta = 2.0 / vv;
            for (var j = k; j < r; j++)
            {
                var dot = 0.0;
                for (var i = k; i < n; i++)
                {
                    dot += v[i] * w[(i * r) + j];
                }

                dot *= beta;
                for (var i = k; i < n; i++)
                {
                    w[(i * r) + j] -= dot * v[i];
                }
            }

            for (var i = 0; i < n; i++)
            {
                var dot = 0.0;
                for (var l = k; l < n; l++)
                {
                    dot += u[(i * n) + l] * v[l];
                }

                dot *= beta;
                for (var l = k; l < n; l++)
                {
                    u[(i * n) + l] -= dot * v[l];
                }
            }

            largest = Math.Max(largest, Math.Abs(w[(k * r) + k]));
        }

        for (var k = 0; k < r; k++)
        {
            if (!(Math.Abs(w[(k * r) + k]) > RankTolerance * largest))
            {
                arena.Release(mark);
                return false;
            }
        }

        // T⁻¹ (r×r, upper) by back substitution, then K = A T⁻¹ (n×r).
        var tinv = arena.Take(r * r);
        for (var j = 0; j < r; j++)
        {
            tinv[(j * r) + j] = 1.0 / w[(j * r) + j];
            for (var i = j - 1; i >= 0; i--)
            {
                var acc = 0.0;
                for (var l = i + 1; l <= j; l++)
                {
                    acc += w[(i * r) + l] * tinv[(l * r) + j];
                }

                tinv[(i * r) + j] = -acc / w[(i * r) + i];
            }
        }

        var gainK = arena.Take(n * r);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < r; j++)
            {
                var acc = 0.0;
                for (var l = 0; l <= j; l++)
                {
                    acc += a[(i * n) + l] * tinv[(l * r) + j];
                }

                gainK[(i * r) + j] = acc;
            }
        }

        // Rotated S̃ = U' S U and C̃ = C_* U (columns: c₁ = C_* U₁, c₂ = C_* U₂).
        var tmp = arena.Take(nn);
        var st = arena.Take(nn);
        var ct = arena.Take(nn);
        Dense.TransposedMultiply(u, n, n, s, n, tmp);
        Dense.Multiply(tmp, n, n, u, n, st);
        Dense.Multiply(cstar, n, n, u, n, ct);

        // Z = S₂₂⁻¹ S₂₁ (p×r) and Y = S₂₂⁻¹ c₂' (p×n).
        var z = arena.Take(p * r);
        var y = arena.Take(p * n);
        if (p > 0)
        {
            var l22 = arena.Take(p * p);
            for (var i = 0; i < p; i++)
            {
                for (var j = 0; j < p; j++)
                {
                    l22[(i * p) + j] = st[((r + i) * n) + r + j];
                }

                for (var j = 0; j < r; j++)
                {
                    z[(i * r) + j] = st[((r + i) * n) + j];
                }

                for (var j = 0; j < n; j++)
                {
                    y[(i * n) + j] = ct[(j * n) + r + i];
                }
            }

            if (!Dense.Cholesky(l22, p))
            {
                arena.Release(mark);
                return false;
            }

            Dense.CholeskySolve(l22, p, z, r);
            Dense.CholeskySolve(l22, p, y, n);
        }

        // W = S₁₁ − S₁₂ Z (r×r), D = c₁ − c₂ Z (n×r), KW = K W (n×r).
        var wm = arena.Take(r * r);
        for (var i = 0; i < r; i++)
        {
            for (var j = 0; j < r; j++)
            {
                var acc = st[(i * n) + j];
                for (var l = 0; l < p; l++)
                {
                    acc -= st[(i * n) + r + l] * z[(l * r) + j];
                }

                wm[(i * r) + j] = acc;
            }
        }

        var dm = arena.Take(n * r);
        var kw = arena.Take(n * r);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < r; j++)
            {
                var acc = ct[(i * n) + j];
                for (var l = 0; l < p; l++)
                {
                    acc -= ct[(i * n) + r + l] * z[(l * r) + j];
                }

                dm[(i * r) + j] = acc;
                var kwij = 0.0;
                for (var l = 0; l < r; l++)
                {
                    kwij += gainK[(i * r) + l] * wm[(l * r) + j];
                }

                kw[(i * r) + j] = kwij;
            }
        }

        // G = K U₁' + (Y' − K Z') U₂' (n×n).
        var g2 = arena.Take(n * p);
        for (var i = 0; i < n; i++)
        {
            for (var l = 0; l < p; l++)
            {
                var acc = y[(l * n) + i];
                for (var j = 0; j < r; j++)
                {
                    acc -= gainK[(i * r) + j] * z[(l * r) + j];
                }

                g2[(i * p) + l] = acc;
            }

            for (var c = 0; c < n; c++)
            {
                var acc = 0.0;
                for (var j = 0; j < r; j++)
                {
                    acc += gainK[(i * r) + j] * u[(c * n) + j];
                }

                for (var l = 0; l < p; l++)
                {
                    acc += g2[(i * p) + l] * u[(c * n) + r + l];
                }

                g[(i * n) + c] = acc;
            }
        }

        // Σ = P_* − c₂ Y − D K' − K D' + K W K'.
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var acc = pstar[(i * n) + j];
                for (var l = 0; l < p; l++)
                {
                    acc -= ct[(i * n) + r + l] * y[(l * n) + j];
                }

                for (var l = 0; l < r; l++)
                {
                    acc += (kw[(i * r) + l] * gainK[(j * r) + l]) - (dm[(i * r) + l] * gainK[(j * r) + l]) - (gainK[(i * r) + l] * dm[(j * r) + l]);
                }

                sigma[(i * n) + j] = acc;
            }
        }

        arena.Release(mark);
        return true;
    }

    /// <summary>The exact backward step (see the class remarks); false when it does not apply.</summary>
    private static bool ExactStep(int n, int r, ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message, Span<double> gainTransposed)
    {
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var g = arena.Take(nn);
        var sigma = arena.Take(nn);
        if (!ExactGain(n, r, record, nextRecord, g, sigma))
        {
            arena.Release(mark);
            return false;
        }

        // m^s_t = m_t + G (m^s_t+1 − m⁻_t+1), P^s_t = Σ + G P^s_t+1 G'.
        var filteredMean = record[..n];
        var predictedMean = nextRecord.Slice(n + nn, n);
        var diff = arena.Take(n);
        for (var i = 0; i < n; i++)
        {
            diff[i] = message[i] - predictedMean[i];
        }

        for (var i = 0; i < n; i++)
        {
            var acc = filteredMean[i];
            for (var j = 0; j < n; j++)
            {
                acc += g[(i * n) + j] * diff[j];
            }

            message[i] = acc;
        }

        var tmp = arena.Take(nn);
        var smoothed = message.Slice(n, nn);
        Dense.Multiply(g, n, n, smoothed, n, tmp);
        Dense.MultiplyTransposed(tmp, n, n, g, n, smoothed);
        for (var i = 0; i < nn; i++)
        {
            smoothed[i] += sigma[i];
        }

        Dense.Symmetrize(smoothed, n);
        message[n + nn] = 0.0;
        message.Slice(n + nn + 1, nn).Clear();
        if (!gainTransposed.IsEmpty)
        {
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    gainTransposed[(i * n) + j] = g[(j * n) + i];
                }
            }
        }

        arena.Release(mark);
        return true;
    }
}
