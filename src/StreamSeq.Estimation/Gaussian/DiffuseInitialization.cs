using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// Exact diffuse initialisation (Durbin &amp; Koopman 2012, §5.2, observations processed one row at a time) with the
/// diffuse covariance held as a factor, a rank tolerance and a bounded period during which records report it as ∞.
/// </summary>
/// <remarks>
/// <para>The prior is P = P_* + κ P_∞ with κ → ∞. P_∞ is kept as P_∞ = A A' with A an n×r factor whose r columns
/// span the state directions the data have not yet determined (stored in an n×n block, columns r.. zero). Predicting
/// maps A to F A. A row z of the (decorrelated) observation with noise variance σ² has the diffuse variance
/// F_∞ = |A'z|². When F_∞ &gt; <see cref="RankTolerance"/> · |z|² · tr(P_∞) the row determines one more direction:
/// a Householder reflection turns A'z into a multiple of the first unit vector, the first column of A H gives the gain
/// K₀ = A z / F_∞, and dropping that column leaves P_∞ − A z z'A' / F_∞, reduced in rank by exactly one and
/// symmetric positive semi-definite by construction (no subtraction of nearly equal matrices). Then a += K₀ v,
/// P_* ← (I − K₀ z') P_* (I − K₀ z')' + K₀ K₀' σ², and the row adds −½(log 2π + log F_∞) to the diffuse
/// log-likelihood (D&amp;K eq. 7.4). Otherwise the row is an ordinary update with F_* = z'P_* z + σ² and leaves A
/// alone (statsmodels does the same with its <c>tolerance_diffuse</c>; its test is absolute, this one relative, so
/// that the decision does not depend on the units of the states, and the tolerance bounds the gain |K₀|² F_* by
/// F_* / tol, which keeps the rounding in P_* small; see <see cref="RankTolerance"/> for its value).</para>
/// <para>Over a short span some models are determined only in exact arithmetic: a trend plus a seasonal of period
/// 1,440 steps read once a step is a set of nearly collinear polynomials for the first hundred readings (the exact
/// posterior variances reach 10¹⁷ after 18 readings), and some sums of presets never determine some directions at
/// all (two components that both carry the level). Records therefore report the diffuse part as ∞ (flagged
/// <see cref="EstimateFlags.Diffuse"/>) for at most <see cref="ReadingBudgetPerState"/> · n readings that carry an
/// observed value. The step after the reading that spends that budget with directions still undetermined is
/// flagged <see cref="EstimateFlags.DiffuseFallback"/>: the directions some reading can see get the finite prior
/// c A A' in P_* (<see cref="MergeObservable"/>), with c = <see cref="FallbackKappa"/> · s and s a data scale
/// (<see cref="DataScale"/>: about the largest squared reading, so a prior standard deviation of about a thousand times
/// the readings' magnitude), and every later reading refines them through ordinary updates, as an approximate diffuse
/// prior would. Directions no reading can see stay in the factor, never enter P_* (where their unbounded variance would
/// swamp the rest through cancellation), are reported with the same stated variance c, and are resolved exactly if a
/// reading ever determines them.</para>
/// <para>A reading whose square overflows ((y − d)² = ∞, for example 1e308) cannot be assimilated: during the
/// diffuse period it is skipped (<see cref="EstimateFlags.ObservationSkipped"/>, log-likelihood −∞, NIS +∞, so
/// anomaly rules fire) and does not count towards the budget.</para>
/// </remarks>
internal static class DiffuseInitialization
{
    /// <summary>Relative tolerance of the rank decision: a row is diffuse when F_∞ &gt; tol · |z|² · tr(P_∞).</summary>
    /// <remarks>
    /// Two errors meet here. Above the threshold the update divides by F_∞, which lets rounding of relative size
    /// ε / (F_∞ / |z|² tr P_∞) into P_*, up to ε / tol. Below it the row is assimilated as an ordinary one, as if z missed
    /// the undetermined directions, from which it is a relative √(F_∞ / |z|² tr P_∞) away, up to √tol; the filtered
    /// moments move by about that much times the model's sensitivity (up to about 40). They balance near
    /// ε^(2/3) ≈ 2e-11. At √ε = 1e-8, rows at 1e-9 of the diffuse scale (nearly parallel rows of H, about one random
    /// 2- or 3-state model in 15,000) left the moments and the log-likelihood up to 6e-4 from the exact limit; at 1e-10
    /// the same 180,000 models are all within 7e-7, and a row near the new threshold is over ten times rarer (two in
    /// 300,000 random 3-state, 2-observation models, 2e-4 and 3e-4 from the limit). Measured by
    /// <c>KalmanFilterDiffuseTests</c> against the limit in 320-bit arithmetic.
    /// </remarks>
    public const double RankTolerance = 1e-10;

    /// <summary>κ of the stated finite variance reported for directions still undetermined after the reading budget.</summary>
    public const double FallbackKappa = 1e6;

    /// <summary>Records report an infinite diffuse part for at most this many observed readings per state dimension.</summary>
    public const int ReadingBudgetPerState = 2;

    /// <summary>The data scale is at most this multiple of the largest noise variance (c ≤ 10¹² R).</summary>
    public const double ScaleToNoise = 1e6;

    /// <summary>A direction counts as observable when its eigenvalue in the observability Gram matrix (each horizon
    /// scaled by |H| |Fʰ A|) exceeds this: a direction no reading sees sits at rounding level (below 1e-14 even next to
    /// observable ones), a seasonal hidden behind a trend over a few readings shows up near 1 at the horizon of its
    /// period.</summary>
    private const double ObservableTolerance = 1e-10;

    /// <summary>Horizons 1, 2, 4, …, 2^(k−1) readings ahead are checked (beyond 10¹² readings at the last gap).</summary>
    private const int ObservabilityHorizons = 41;

    private const double Log2Pi = 1.8378770664093453;

    /// <summary>Factors P_∞ = A A' into <paramref name="factor"/> (n×n, columns beyond the rank zero); returns r.</summary>
    public static int Factor(ReadOnlySpan<double> diffuse, int n, Span<double> factor)
    {
        factor[..(n * n)].Clear();
        var diagonal = true;
        for (var i = 0; i < n && diagonal; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (i != j && diffuse[(i * n) + j] != 0.0)
                {
                    diagonal = false;
                    break;
                }
            }
        }

        var rank = 0;
        if (diagonal)
        {
            for (var i = 0; i < n; i++)
            {
                var d = diffuse[(i * n) + i];
                if (d > 0.0)
                {
                    factor[(i * n) + rank] = Math.Sqrt(d);
                    rank++;
                }
            }

            return rank;
        }

        var work = diffuse[..(n * n)].ToArray();
        var values = new double[n];
        var vectors = new double[n * n];
        Dense.SymmetricEigen(work, n, values, vectors);
        var largest = values.Max();
        for (var k = 0; k < n; k++)
        {
            if (values[k] > RankTolerance * largest)
            {
                var root = Math.Sqrt(values[k]);
                for (var i = 0; i < n; i++)
                {
                    factor[(i * n) + rank] = vectors[(i * n) + k] * root;
                }

                rank++;
            }
        }

        return rank;
    }

    /// <summary>A ← F A (the diffuse part of the prediction); <paramref name="scratch"/> holds n×n.</summary>
    public static void Predict(ReadOnlySpan<double> transition, int n, Span<double> factor, Span<double> scratch)
    {
        Dense.Multiply(transition, n, n, factor, n, scratch);
        scratch[..(n * n)].CopyTo(factor);
    }

    /// <summary>P_∞ = A A'.</summary>
    public static void Outer(ReadOnlySpan<double> factor, int n, Span<double> result) =>
        Dense.MultiplyTransposed(factor, n, n, factor, n, result);

    /// <summary>tr(P_∞) = Σ A²: the scale the rank decisions are relative to.</summary>
    public static double Trace(ReadOnlySpan<double> factor, int n)
    {
        var s = 0.0;
        foreach (var a in factor[..(n * n)])
        {
            s += a * a;
        }

        return s;
    }

    /// <summary>
    /// Writes ±∞ into the entries of a state covariance (n×n) where P_∞ is not negligible (|P_∞,ij| &gt; tol · tr P_∞):
    /// the variance of a state direction the data have not determined is infinite. Never −∞ on the diagonal (P_∞ is a
    /// Gram matrix).
    /// </summary>
    public static void MarkState(Span<double> covariance, ReadOnlySpan<double> factor, int n, Span<double> scratch)
    {
        var pinf = scratch[..(n * n)];
        Outer(factor, n, pinf);
        var threshold = RankTolerance * Trace(factor, n);
        for (var i = 0; i < n * n; i++)
        {
            var v = pinf[i];
            if (Math.Abs(v) > threshold)
            {
                covariance[i] = v > 0 ? double.PositiveInfinity : double.NegativeInfinity;
            }
        }
    }

    /// <summary>
    /// Writes ±∞ into the entries of the predictive covariance of y (m×m) where H P_∞ H' is not negligible, with the
    /// same test as the update's (|h_i' P_∞ h_j| &gt; tol · |h_i| |h_j| tr P_∞). <paramref name="scratch"/> holds m×n + n.
    /// </summary>
    public static void MarkObservation(Span<double> covariance, ReadOnlySpan<double> observation, int m, int n, ReadOnlySpan<double> factor, Span<double> scratch)
    {
        var g = scratch[..(m * n)];
        var norms = scratch.Slice(m * n, m);
        Dense.Multiply(observation, m, n, factor, n, g);
        var trace = Trace(factor, n);
        for (var i = 0; i < m; i++)
        {
            var s = 0.0;
            for (var j = 0; j < n; j++)
            {
                s += observation[(i * n) + j] * observation[(i * n) + j];
            }

            norms[i] = Math.Sqrt(s);
        }

        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                var s = 0.0;
                for (var k = 0; k < n; k++)
                {
                    s += g[(i * n) + k] * g[(j * n) + k];
                }

                if (Math.Abs(s) > RankTolerance * norms[i] * norms[j] * trace)
                {
                    covariance[(i * m) + j] = s > 0 ? double.PositiveInfinity : double.NegativeInfinity;
                }
            }
        }
    }

    /// <summary>
    /// The update of one reading during the diffuse period: observed rows decorrelated (R_oo = L D L'), then one row
    /// at a time as described on the class. Writes the diffuse log-likelihood and the NIS of the non-diffuse rows
    /// (NaN when every row was diffuse) into <paramref name="estimate"/>, raises <paramref name="scale"/> to the
    /// largest (y − d)² seen, and returns the new rank of the factor. <paramref name="assimilated"/>
    /// is false when the reading could not be used at all.
    /// </summary>
    public static int Update(
        LinearGaussianModel model,
        ReadOnlySpan<double> r,
        bool diagonalObservationNoise,
        Span<double> mean,
        Span<double> pstar,
        Span<double> factor,
        int rank,
        ReadOnlySpan<double> y,
        ReadOnlySpan<int> observed,
        Estimate estimate,
        ref double scale,
        out bool assimilated)
    {
        assimilated = false;
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        var k = observed.Length;
        var h = model.Observation;
        var d = model.ObservationOffset;

        // A reading whose square overflows cannot be assimilated (see the class remarks).
        var readingScale = scale;
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            var centred = y[ia] - d[ia];
            var square = centred * centred;
            if (!double.IsFinite(square))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
                estimate.LogLikelihood = double.NegativeInfinity;
                estimate.NormalizedInnovationSquared = double.PositiveInfinity;
                return rank;
            }

            readingScale = Math.Max(readingScale, square);
        }

        scale = readingScale;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;

        // Decorrelate the observed rows: R_oo = L D L' with unit lower L; y* = L⁻¹ (y − d), H* = L⁻¹ H.
        var hs = arena.Take(k * n);
        var ys = arena.Take(k);
        var dvar = arena.Take(k);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            h.Slice(ia * n, n).CopyTo(hs.Slice(a * n, n));
            ys[a] = y[ia] - d[ia];
            dvar[a] = r[(ia * m) + ia];
        }

        if (!diagonalObservationNoise && k > 1 && !Decorrelate(r, m, observed, n, hs, ys, dvar))
        {
            estimate.Flags |= EstimateFlags.ObservationSkipped;
            estimate.ObservedCount = 0;
            arena.Release(mark);
            return rank;
        }

        var w = arena.Take(n);
        var mstar = arena.Take(n);
        var gain = arena.Take(n);
        var loglik = 0.0;
        var nis = 0.0;
        var nonDiffuseRows = 0;
        for (var a = 0; a < k; a++)
        {
            var z = hs.Slice(a * n, n);
            Dense.MultiplyVector(pstar, n, n, z, mstar);
            double fstar = dvar[a], zz = 0.0, za = 0.0;
            for (var j = 0; j < n; j++)
            {
                fstar += z[j] * mstar[j];
                zz += z[j] * z[j];
                za += z[j] * mean[j];
            }

            var v = ys[a] - za;
            var finf = 0.0;
            if (rank > 0)
            {
                for (var c = 0; c < rank; c++)
                {
                    var s = 0.0;
                    for (var i = 0; i < n; i++)
                    {
                        s += factor[(i * n) + c] * z[i];
                    }

                    w[c] = s;
                    finf += s * s;
                }
            }

            if (rank > 0 && finf > RankTolerance * zz * Trace(factor, n))
            {
                ReduceRank(factor, n, rank, w[..rank], finf, gain);
                rank--;

                // a += K₀ v; P_* += K₀ K₀' F_* − K₀ M_*' − M_* K₀' (= (I − K₀ z') P_* (I − K₀ z')' + K₀ K₀' σ²).
                for (var i = 0; i < n; i++)
                {
                    mean[i] += gain[i] * v;
                }

                for (var i = 0; i < n; i++)
                {
                    for (var j = i; j < n; j++)
                    {
                        var value = pstar[(i * n) + j] + (gain[i] * gain[j] * fstar) - (gain[i] * mstar[j]) - (mstar[i] * gain[j]);
                        pstar[(i * n) + j] = value;
                        pstar[(j * n) + i] = value;
                    }
                }

                loglik -= 0.5 * (Log2Pi + Math.Log(finf));
            }
            else if (fstar > 0.0 && double.IsFinite(v * v / fstar))
            {
                // An ordinary row: K = M_* / F_*, P_* −= M_* M_*' / F_*.
                var inverse = 1.0 / fstar;
                for (var i = 0; i < n; i++)
                {
                    mean[i] += mstar[i] * inverse * v;
                }

                for (var i = 0; i < n; i++)
                {
                    for (var j = i; j < n; j++)
                    {
                        var value = pstar[(i * n) + j] - (mstar[i] * mstar[j] * inverse);
                        pstar[(i * n) + j] = value;
                        pstar[(j * n) + i] = value;
                    }
                }

                var e = v * v * inverse;
                nis += e;
                nonDiffuseRows++;
                loglik -= 0.5 * (Log2Pi + Math.Log(fstar) + e);
            }
            else
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }
        }

        estimate.LogLikelihood = loglik;
        estimate.NormalizedInnovationSquared = nonDiffuseRows > 0 ? nis : double.NaN;
        estimate.InnovationCount = nonDiffuseRows;
        assimilated = true;
        arena.Release(mark);
        return rank;
    }

    /// <summary>The stated variance c = κ_f · s for the data scale <paramref name="scale"/> (s = 1 when 0).</summary>
    public static double FallbackVariance(double scale) => FallbackKappa * (scale > 0.0 && double.IsFinite(scale) ? scale : 1.0);

    /// <summary>
    /// The data scale s from the largest squared reading (y − d)² and the largest noise variance seen: the squared
    /// reading, but at most <see cref="ScaleToNoise"/> times the noise variance (readings far from zero relative to
    /// their noise would otherwise make c so large that P loses the noise level in rounding), and at least the noise
    /// variance.
    /// </summary>
    public static double DataScale(double largestSquare, double largestNoise) =>
        largestNoise > 0.0 ? Math.Max(Math.Min(largestSquare, ScaleToNoise * largestNoise), largestNoise) : largestSquare;

    /// <summary>
    /// At the end of the reading budget: the undetermined directions that the observations can see at some horizon
    /// (through H F^(2^k) A, k = 0..<see cref="ObservabilityHorizons"/>, with the last transition, each block
    /// normalised so that rounding is relative to it) receive the finite prior c A A' in P_*, so that every later
    /// reading informs them through ordinary updates; directions no reading can see (the difference of two components
    /// that both carry the level) stay in the factor, so their unbounded variance never enters P_* (where it would
    /// swamp the rest by cancellation), and keep being reported with the stated variance. Returns the rank left.
    /// </summary>
    public static int MergeObservable(Span<double> pstar, Span<double> factor, int n, int rank, ReadOnlySpan<double> transition, ReadOnlySpan<double> observation, int m, double c)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var power = arena.Take(n * n);
        var next = arena.Take(n * n);
        var propagated = arena.Take(n * n);
        var seen = arena.Take(m * n);
        var gram = arena.Take(rank * rank);
        transition[..(n * n)].CopyTo(power);
        var largestObservation = 0.0;
        foreach (var v in observation[..(m * n)])
        {
            largestObservation = Math.Max(largestObservation, Math.Abs(v));
        }

        for (var k = 0; k <= ObservabilityHorizons; k++)
        {
            // B = H Fʰ A (h = 0, then 2^(k-1)), scaled to unit largest entry, added to the Gram of the factor's columns.
            if (k == 0)
            {
                factor[..(n * n)].CopyTo(propagated);
            }
            else
            {
                Dense.Multiply(power, n, n, factor, n, propagated);
                Dense.Multiply(power, n, n, power, n, next);
                var largestEntry = 0.0;
                foreach (var v in next)
                {
                    largestEntry = Math.Max(largestEntry, Math.Abs(v));
                }

                if (!double.IsFinite(largestEntry) || largestEntry == 0.0)
                {
                    break;
                }

                // Powers of a rotation stay bounded; those of a trend grow: rescaling keeps them representable.
                for (var i = 0; i < n * n; i++)
                {
                    power[i] = next[i] / Math.Max(1.0, largestEntry);
                }
            }

            // Scaled by the sizes of the factors (not of the product), so that a direction no reading sees stays
            // at rounding level, about 1e-16, while one seen at this horizon comes out near its relative visibility.
            Dense.Multiply(observation, m, n, propagated, n, seen);
            var norm = largestObservation * LargestEntry(propagated, n, rank);

            if (!(norm > 0.0) || !double.IsFinite(norm))
            {
                continue;
            }

            for (var i = 0; i < m * n; i++)
            {
                seen[i] /= norm;
            }

            for (var i = 0; i < rank; i++)
            {
                for (var j = 0; j < rank; j++)
                {
                    var acc = 0.0;
                    for (var row = 0; row < m; row++)
                    {
                        acc += seen[(row * n) + i] * seen[(row * n) + j];
                    }

                    gram[(i * rank) + j] += acc;
                }
            }
        }

        var values = arena.Take(rank);
        var vectors = arena.Take(rank * rank);
        Dense.SymmetricEigen(gram, rank, values, vectors);

        // A ← A V: observable columns (eigenvalue above rounding of the squared projections) join P_*, the rest stay.
        var rotated = arena.Take(n * n);
        var kept = 0;
        for (var col = 0; col < rank; col++)
        {
            var observable = values[col] > ObservableTolerance;
            for (var i = 0; i < n; i++)
            {
                var acc = 0.0;
                for (var j = 0; j < rank; j++)
                {
                    acc += factor[(i * n) + j] * vectors[(j * rank) + col];
                }

                next[i] = acc;
            }

            if (observable)
            {
                for (var i = 0; i < n; i++)
                {
                    for (var j = i; j < n; j++)
                    {
                        var value = pstar[(i * n) + j] + (c * next[i] * next[j]);
                        pstar[(i * n) + j] = value;
                        pstar[(j * n) + i] = value;
                    }
                }
            }
            else
            {
                for (var i = 0; i < n; i++)
                {
                    rotated[(i * n) + kept] = next[i];
                }

                kept++;
            }
        }

        rotated.CopyTo(factor);
        arena.Release(mark);
        return kept;
    }

    /// <summary>target += c A A' (n×n), symmetric by construction.</summary>
    public static void AddOuter(Span<double> target, ReadOnlySpan<double> factor, int n, double c) =>
        AddGram(target, factor, n, n, c);

    /// <summary>target += c (H A)(H A)' (m×m); <paramref name="scratch"/> holds m×n.</summary>
    public static void AddObservationOuter(Span<double> target, ReadOnlySpan<double> observation, int m, int n, ReadOnlySpan<double> factor, double c, Span<double> scratch)
    {
        var g = scratch[..(m * n)];
        Dense.Multiply(observation, m, n, factor, n, g);
        AddGram(target, g, m, n, c);
    }

    /// <summary>The largest |entry| in the first <paramref name="columns"/> columns of an n×n matrix.</summary>
    private static double LargestEntry(ReadOnlySpan<double> a, int n, int columns)
    {
        var largest = 0.0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                largest = Math.Max(largest, Math.Abs(a[(i * n) + j]));
            }
        }

        return largest;
    }

    /// <summary>target (rows×rows) += c A A' for A of rows×cols, one product per pair (symmetric by construction).</summary>
    private static void AddGram(Span<double> target, ReadOnlySpan<double> a, int rows, int cols, double c)
    {
        for (var i = 0; i < rows; i++)
        {
            var ai = a.Slice(i * cols, cols);
            for (var j = i; j < rows; j++)
            {
                var aj = a.Slice(j * cols, cols);
                var s = 0.0;
                for (var k = 0; k < cols; k++)
                {
                    s += ai[k] * aj[k];
                }

                target[(i * rows) + j] += c * s;
                if (j != i)
                {
                    target[(j * rows) + i] += c * s;
                }
            }
        }
    }

    /// <summary>
    /// A ← (A H) without its first column, where the Householder reflection H maps w = A'z to −sign(w₀)|w| e₁; writes
    /// the gain K₀ = A w / |w|² = −sign(w₀) (A H)e₁ / |w| into <paramref name="gain"/>.
    /// </summary>
    private static void ReduceRank(Span<double> factor, int n, int rank, Span<double> w, double finf, Span<double> gain)
    {
        var alpha = Math.Sqrt(finf);
        var w0 = w[0];
        var sign = w0 >= 0.0 ? 1.0 : -1.0;

        // u = w + sign(w₀) α e₁ (held in w), u'u = 2 α (α + |w₀|), H = I − u u' / (α (α + |w₀|)).
        w[0] = w0 + (sign * alpha);
        var beta = 1.0 / (alpha * (alpha + Math.Abs(w0)));
        for (var i = 0; i < n; i++)
        {
            var row = factor.Slice(i * n, rank);
            var s = 0.0;
            for (var c = 0; c < rank; c++)
            {
                s += row[c] * w[c];
            }

            s *= beta;
            for (var c = 0; c < rank; c++)
            {
                row[c] -= s * w[c];
            }

            gain[i] = -sign * row[0] / alpha;

            // Drop the first column.
            for (var c = 1; c < rank; c++)
            {
                row[c - 1] = row[c];
            }

            row[rank - 1] = 0.0;
        }
    }

    /// <summary>R_oo = C C' (C lower) = L D L' with L = C diag(C)⁻¹ and D = diag(C)²; y* = L⁻¹ y, H* = L⁻¹ H.</summary>
    private static bool Decorrelate(ReadOnlySpan<double> r, int m, ReadOnlySpan<int> observed, int n, Span<double> hs, Span<double> ys, Span<double> dvar)
    {
        var k = observed.Length;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var l = arena.Take(k * k);
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
            {
                l[(a * k) + b] = r[(observed[a] * m) + observed[b]];
            }
        }

        if (!Dense.Cholesky(l, k))
        {
            arena.Release(mark);
            return false;
        }

        for (var b = 0; b < k; b++)
        {
            var c = l[(b * k) + b];
            dvar[b] = c * c;
            l[(b * k) + b] = 1.0;
            for (var a = b + 1; a < k; a++)
            {
                l[(a * k) + b] /= c;
            }
        }

        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < a; b++)
            {
                var lab = l[(a * k) + b];
                ys[a] -= lab * ys[b];
                for (var j = 0; j < n; j++)
                {
                    hs[(a * n) + j] -= lab * hs[(b * n) + j];
                }
            }
        }

        arena.Release(mark);
        return true;
    }
}
