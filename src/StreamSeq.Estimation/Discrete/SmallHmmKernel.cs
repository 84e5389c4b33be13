using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Discrete;

/// <summary>
/// The steady-state forward step of <see cref="HiddenMarkovFilter"/> for at most four hidden states and univariate
/// Gaussian emissions: every K-vector (probabilities, log-densities, Viterbi scores) is one 256-bit vector, the
/// transition matrix is four row vectors, and no loop runs over the states.
/// </summary>
/// <remarks>
/// <para>It computes the same quantities with the same floating-point operations in the same order as the general
/// path of <see cref="HiddenMarkovFilter"/> (products and sums are not fused; horizontal sums run from lane 0 up,
/// and the unused lanes hold exact zeros), so the two paths agree bit for bit. Lanes at index K and above are
/// padding: probabilities and transition entries 0, log-densities and log-transitions −∞.</para>
/// <para>It handles only the common case: not the first step, an observed y, a predicted vector that sums to about
/// one, and a finite, positive normaliser. <see cref="TryStep"/> returns false before writing anything otherwise,
/// and the caller runs the general path, which owns every guard rail.</para>
/// </remarks>
[SkipLocalsInit]
internal sealed class SmallHmmKernel
{
    /// <summary>Largest number of hidden states the kernel handles.</summary>
    public const int MaxStates = 4;

    private const int StepsSlot = 0;
    private const int OffsetSlot = 1;
    private const int HeadSlot = 2;
    private const int FilledSlot = 3;
    private const int ProbabilitySlot = 4;

    private readonly int k;
    private readonly int deltaSlot;
    private readonly int pointerSlot;
    private readonly int window;
    private readonly int minimumStateLength;
    private readonly Vector256<double> lanes;
    private readonly Vector256<double> row0;
    private readonly Vector256<double> row1;
    private readonly Vector256<double> row2;
    private readonly Vector256<double> row3;
    private readonly Vector256<double> logRow0;
    private readonly Vector256<double> logRow1;
    private readonly Vector256<double> logRow2;
    private readonly Vector256<double> logRow3;
    private readonly Vector256<double> means;
    private readonly Vector256<double> inverseVariances;
    private readonly Vector256<double> logNormalizers;
    private readonly Vector256<double> variances;
    private readonly Vector256<double> unit0 = Unit(0);
    private readonly Vector256<double> unit1 = Unit(1);
    private readonly Vector256<double> unit2 = Unit(2);
    private readonly Vector256<double> unit3 = Unit(3);

    private SmallHmmKernel(HiddenMarkovModel model, GaussianEmission emission, int viterbiWindow)
    {
        k = model.StateCount;
        window = viterbiWindow;
        deltaSlot = ProbabilitySlot + k;
        pointerSlot = deltaSlot + k;

        // The filtered and Viterbi vectors are read as whole vectors: the state must reach 4 doubles past δ.
        minimumStateLength = deltaSlot + MaxStates;
        Span<double> on = stackalloc double[MaxStates];
        for (var j = 0; j < MaxStates; j++)
        {
            on[j] = j < k ? BitConverter.Int64BitsToDouble(-1L) : 0.0;
        }

        lanes = Vector256.Create<double>(on);
        var a = model.Transition;
        var logA = model.LogTransition;
        row0 = Row(a, 0, 0.0);
        row1 = Row(a, 1, 0.0);
        row2 = Row(a, 2, 0.0);
        row3 = Row(a, 3, 0.0);
        logRow0 = Row(logA, 0, double.NegativeInfinity);
        logRow1 = Row(logA, 1, double.NegativeInfinity);
        logRow2 = Row(logA, 2, double.NegativeInfinity);
        logRow3 = Row(logA, 3, double.NegativeInfinity);
        means = Padded(emission.Means, 0.0);
        inverseVariances = Padded(emission.InverseVariances, 0.0);
        logNormalizers = Padded(emission.LogNormalizers, 0.0);
        variances = Padded(emission.Variances, 0.0);
    }

    /// <summary>A kernel for the model, or null when the model or the hardware does not fit it.</summary>
    public static SmallHmmKernel? TryCreate(HiddenMarkovModel model, int viterbiWindow) =>
        Vector256.IsHardwareAccelerated && model.StateCount <= MaxStates && model.Emission is GaussianEmission gaussian
            ? new SmallHmmKernel(model, gaussian, viterbiWindow)
            : null;

    /// <summary>
    /// One forward step on an observed, finite <paramref name="y"/> after the first step. Returns false, having
    /// written nothing, when the step needs the general path's guard rails.
    /// </summary>
    public bool TryStep(Span<double> state, double y, Estimate estimate, Span<double> backwardRecord)
    {
        if (state.Length < minimumStateLength || state[StepsSlot] == 0.0 || !double.IsFinite(y))
        {
            return false;
        }

        var k = this.k;
        var lanes = this.lanes;
        ref var s = ref MemoryMarshal.GetReference(state);
        var zero = Vector256<double>.Zero;
        var negativeInfinity = Vector256.Create(double.NegativeInfinity);

        // log b_j = c_j − ½ (y − μ_j)² / σ²_j and its exponentials relative to the largest: these depend on y only, so
        // they run alongside the prediction below instead of after it.
        var d = Vector256.Create(y) - means;
        var logB = Vector256.ConditionalSelect(lanes, logNormalizers - (Vector256.Create(0.5) * d * d * inverseVariances), negativeInfinity);
        var max = Vector256.MaxNative(logB, Vector256.Shuffle(logB, Vector256.Create(1L, 0L, 3L, 2L)));
        max = Vector256.MaxNative(max, Vector256.Shuffle(max, Vector256.Create(2L, 3L, 0L, 1L)));

        // Predict: p = Σ_i f_i A_i· (padding rows and lanes are zero, so adding them changes nothing).
        var f = Vector256.LoadUnsafe(ref s, ProbabilitySlot) & lanes;
        var p = Vector256.Create(f.GetElement(0)) * row0;
        p += Vector256.Create(f.GetElement(1)) * row1;
        p += Vector256.Create(f.GetElement(2)) * row2;
        p += Vector256.Create(f.GetElement(3)) * row3;
        var total = SumInOrder(p);
        if (!(total > 0.5 && total < 1.5))
        {
            return false;
        }

        if ((Vector256.GreaterThan(p, zero) & lanes) != lanes)
        {
            // A state with zero predicted probability does not take part in the maximum.
            var masked = Vector256.ConditionalSelect(Vector256.GreaterThan(p, zero), logB, negativeInfinity);
            max = Vector256.MaxNative(masked, Vector256.Shuffle(masked, Vector256.Create(1L, 0L, 3L, 2L)));
            max = Vector256.MaxNative(max, Vector256.Shuffle(max, Vector256.Create(2L, 3L, 0L, 1L)));
        }

        var top = max.GetElement(0);
        if (!double.IsFinite(top))
        {
            return false;
        }

        // Padding lanes go in as 0 (not −∞, whose exponential would leave the fast range) and come out as 0.
        var e = InlineMath.Exp(Vector256.ConditionalSelect(lanes, logB - max, zero)) & lanes;
        var w = p * e;
        var sums = k < MaxStates ? PairwiseSum(w) : Vector256.Create(SumInOrder(w));
        var sum = sums.ToScalar();
        if (!(sum > 0.0) || !double.IsFinite(sum))
        {
            return false;
        }

        var filtered = w * (Vector256<double>.One / sums);

        // Predictive moments of y (mixture of the state Gaussians), the variance in the centred form
        // Σ_j p_j (σ²_j + (μ_j − m)²) as the general path computes it (padding lanes add p · (0 + m²) = +0).
        var first = SumFromZero(p * means);
        var spread = means - Vector256.Create(first);
        var variance = SumInOrder(p * (variances + (spread * spread)));
        if (!double.IsFinite(variance))
        {
            // A squared deviation that overflows (means near ±1e154 or beyond): a lane of probability 0 times ∞ is
            // NaN here. The general path skips states of probability 0 and reports the overflow as an infinite
            // variance.
            return false;
        }

        var observationVariance = Math.Max(variance, 0.0);

        // Online Viterbi: δ_t(j) = max_i [δ_{t−1}(i) + log A_ij] + log b_t(j), first maximiser on ties.
        var delta = Vector256.ConditionalSelect(lanes, Vector256.LoadUnsafe(ref s, (nuint)deltaSlot), negativeInfinity);
        var best = negativeInfinity;
        var arg = zero;
        Relax(ref best, ref arg, Vector256.Create(delta.GetElement(0)) + logRow0, zero);
        Relax(ref best, ref arg, Vector256.Create(delta.GetElement(1)) + logRow1, Vector256<double>.One);
        Relax(ref best, ref arg, Vector256.Create(delta.GetElement(2)) + logRow2, Vector256.Create(2.0));
        Relax(ref best, ref arg, Vector256.Create(delta.GetElement(3)) + logRow3, Vector256.Create(3.0));
        var next = best + logB;
        var (viterbiState, viterbiTop) = ArgMax(next, k);
        var (mostLikely, _) = ArgMax(filtered, k);

        // State. The pointer column is written without bounds checks: a head outside the window (a damaged state) takes
        // the general path, whose checked indexing refuses it.
        var head = (int)state[HeadSlot];
        if ((uint)head >= (uint)window)
        {
            return false;
        }

        Store(filtered, ref Unsafe.Add(ref s, ProbabilitySlot), k);
        Store(next - Vector256.Create(viterbiTop), ref Unsafe.Add(ref s, deltaSlot), k);
        Store(arg, ref Unsafe.Add(ref s, pointerSlot + (head * k)), k);
        state[OffsetSlot] += viterbiTop;
        state[HeadSlot] = head + 1 == window ? 0 : head + 1;
        if (state[FilledSlot] < window)
        {
            state[FilledSlot] += 1.0;
        }

        state[StepsSlot] += 1.0;

        // Outputs.
        estimate.Reset();
        ref var extras = ref MemoryMarshal.GetArrayDataReference(estimate.Extras);
        Output(p, ref MemoryMarshal.GetArrayDataReference(estimate.PredictedMean), lanes, k);
        Output(filtered, ref MemoryMarshal.GetArrayDataReference(estimate.StateMean), lanes, k);
        Output(filtered, ref extras, lanes, k);
        Unsafe.Add(ref extras, k) = viterbiState;
        Unsafe.Add(ref extras, k + 1) = mostLikely;
        OneHotCovariance(p, ref MemoryMarshal.GetArrayDataReference(estimate.PredictedCovariance), lanes, k);
        OneHotCovariance(filtered, ref MemoryMarshal.GetArrayDataReference(estimate.StateCovariance), lanes, k);
        estimate.ObservationMean[0] = first;
        estimate.ObservationCovariance[0] = observationVariance;
        var innovation = y - first;
        estimate.NormalizedInnovationSquared = observationVariance > 0.0 ? innovation * innovation / observationVariance : double.NaN;
        estimate.LogLikelihood = top + InlineMath.Log(sum);
        estimate.ObservedCount = 1;
        if (!backwardRecord.IsEmpty)
        {
            _ = backwardRecord[3 * k];
            ref var record = ref MemoryMarshal.GetReference(backwardRecord);
            Store(filtered, ref record, k);
            Store(p, ref Unsafe.Add(ref record, k), k);
            Store(arg, ref Unsafe.Add(ref record, 2 * k), k);
            Unsafe.Add(ref record, 3 * k) = viterbiState;
        }

        return true;
    }

    /// <summary>The first lane (below K) holding the largest value, and that value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Index, double Value) ArgMax(Vector256<double> v, int k)
    {
        var top = v.GetElement(0);
        var index = 0;
        if (k > 1 && v.GetElement(1) > top)
        {
            top = v.GetElement(1);
            index = 1;
        }

        if (k > 2 && v.GetElement(2) > top)
        {
            top = v.GetElement(2);
            index = 2;
        }

        if (k > 3 && v.GetElement(3) > top)
        {
            top = v.GetElement(3);
            index = 3;
        }

        return (index, top);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Relax(ref Vector256<double> best, ref Vector256<double> arg, Vector256<double> candidate, Vector256<double> index)
    {
        var better = Vector256.GreaterThan(candidate, best);
        best = Vector256.ConditionalSelect(better, candidate, best);
        arg = Vector256.ConditionalSelect(better, index, arg);
    }

    /// <summary>((v₀ + v₁) + v₂) + v₃: the order of the general path's loops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double SumInOrder(Vector256<double> v) => v.GetElement(0) + v.GetElement(1) + v.GetElement(2) + v.GetElement(3);

    /// <summary>
    /// (v₀ + v₁) + (v₂ + v₃) in every lane: with at most three states v₃ = +0, and this equals the general path's
    /// ((v₀ + v₁) + v₂) in fewer dependent steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> PairwiseSum(Vector256<double> v)
    {
        var pairs = v + Vector256.Shuffle(v, Vector256.Create(1L, 0L, 3L, 2L));
        return pairs + Vector256.Shuffle(pairs, Vector256.Create(2L, 3L, 0L, 1L));
    }

    /// <summary>(((0 + v₀) + v₁) + v₂) + v₃: as a loop that starts from zero (the sign of a zero sum included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double SumFromZero(Vector256<double> v) => 0.0 + v.GetElement(0) + v.GetElement(1) + v.GetElement(2) + v.GetElement(3);

    /// <summary>Writes the first K lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<double> v, ref double destination, int k)
    {
        destination = v.GetElement(0);
        if (k > 1)
        {
            Unsafe.Add(ref destination, 1) = v.GetElement(1);
        }

        if (k > 2)
        {
            Unsafe.Add(ref destination, 2) = v.GetElement(2);
        }

        if (k > 3)
        {
            Unsafe.Add(ref destination, 3) = v.GetElement(3);
        }
    }

    /// <summary>Writes the first K lanes of an output with one masked store where the processor has them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Output(Vector256<double> v, ref double destination, Vector256<double> lanes, int k)
    {
        if (Avx512F.VL.IsSupported)
        {
            fixed (double* address = &destination)
            {
                Avx512F.VL.MaskStore(address, lanes, v);
            }

            return;
        }

        Store(v, ref destination, k);
    }

    /// <summary>diag(p) − p p' into a K×K row-major block, with the general path's operation order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void OneHotCovariance(Vector256<double> p, ref double covariance, Vector256<double> lanes, int k)
    {
        Row(p, p.GetElement(0), unit0, ref covariance, lanes, k);
        if (k > 1)
        {
            Row(p, p.GetElement(1), unit1, ref Unsafe.Add(ref covariance, k), lanes, k);
        }

        if (k > 2)
        {
            Row(p, p.GetElement(2), unit2, ref Unsafe.Add(ref covariance, 2 * k), lanes, k);
        }

        if (k > 3)
        {
            Row(p, p.GetElement(3), unit3, ref Unsafe.Add(ref covariance, 3 * k), lanes, k);
        }
    }

    /// <summary>Row i of diag(p) − p p': −p_i p_j, plus p_i on the diagonal (added in the register, not in memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(Vector256<double> p, double pi, Vector256<double> unit, ref double row, Vector256<double> lanes, int k)
    {
        var broadcast = Vector256.Create(pi);
        var off = -broadcast * p;
        Output(Vector256.ConditionalSelect(unit, off + broadcast, off), ref row, lanes, k);
    }

    private static Vector256<double> Row(ReadOnlySpan<double> matrix, int i, double padding)
    {
        var k = (int)Math.Sqrt(matrix.Length);
        return i < k ? Padded(matrix.Slice(i * k, k), padding) : Vector256.Create(padding);
    }

    /// <summary>All bits set in lane i, zero elsewhere.</summary>
    private static Vector256<double> Unit(int i)
    {
        Span<double> bits = stackalloc double[MaxStates];
        bits.Clear();
        bits[i] = BitConverter.Int64BitsToDouble(-1L);
        return Vector256.Create<double>(bits);
    }

    private static Vector256<double> Padded(ReadOnlySpan<double> values, double padding)
    {
        Span<double> lanes = stackalloc double[MaxStates];
        lanes.Fill(padding);
        values.CopyTo(lanes);
        return Vector256.Create<double>(lanes);
    }
}
