using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The Kalman filter for a <see cref="LinearGaussianModel"/>, with the Joseph-form covariance update, missing
/// components, control inputs, exact diffuse initialisation and the Rauch–Tung–Striebel backward step.
/// </summary>
/// <remarks>
/// <para>Predict: a⁻ = F a + c + B u, P⁻ = F P F' + Q. Update over the observed rows o of y:
/// v = y_o − (H a⁻ + d)_o, S = H_o P⁻ H_o' + R_oo, K = P⁻ H_o' S⁻¹, a = a⁻ + K v,
/// P = (I − K H_o) P⁻ (I − K H_o)' + K R_oo K' (Joseph form, symmetrised), and
/// log p(y_t | y_{1:t-1}) = −½ (k log 2π + log|S| + v' S⁻¹ v) with k observed rows.</para>
/// <para>Exact diffuse initialisation (Durbin &amp; Koopman, ch. 5) carries P = P_* + κ P_∞ with κ → ∞, P_∞ held as a
/// factor, and processes the observed rows one at a time (after decorrelating R) until P_∞ vanishes or the bounded
/// diffuse period ends (<see cref="DiffuseInitialization"/>). During that period the log-likelihood is the diffuse
/// one (D&amp;K eq. 7.4) and reported covariances are ±∞ where P_∞ is not negligible (never −∞ on a diagonal).</para>
/// <para>Guard rails: a non-finite mean or covariance re-initialises the stream from the prior with this reading as the
/// first (<see cref="EstimateFlags.Reinitialized"/>, as after a huge gap), or leaves it at the prior (log-likelihood
/// NaN, the next reading the first) when that first step is not finite either; a covariance that fails the cheap PSD checks is repaired by clipping
/// negative eigenvalues (<see cref="EstimateFlags.Repaired"/>); an innovation covariance that is not positive
/// definite skips the update (<see cref="EstimateFlags.ObservationSkipped"/>), and so does an innovation whose
/// squared Mahalanobis distance overflows (a reading such as 1e308): that step reports log-likelihood −∞ and NIS +∞
/// (so anomaly rules fire), the state stays the finite prediction and the next readings continue from it.</para>
/// </remarks>
public sealed class KalmanFilter : IEstimator, IBackwardStep, IFormerRecords, IRestartRecords
{
    private const double Log2Pi = 1.8378770664093453;
    private const int StepsSlot = 0;
    private const int DiffuseSlot = 1;
    private const int MeanSlot = 2;

    /// <summary>Covariances with a variance beyond this multiple of the largest noise variance are tested for
    /// positive semi-definiteness by Cholesky in every kernel (a vague prior still in them, a huge gap).</summary>
    private const double FragileToNoise = 1e6;

    /// <summary>Test every covariance (the general kernel).</summary>
    private const double AlwaysTest = -1.0;

    /// <summary>The tested covariance P is indefinite when P + δ I with δ this multiple of its largest variance has no
    /// Cholesky factor.</summary>
    private const double TestJitter = 1e-10;

    /// <summary><see cref="TestJitter"/> after an update from a fragile prediction whose variances span at most 8 orders
    /// of magnitude: a hundred times the Cholesky factorisation's own rounding (n ε relative). A direction the data do
    /// not reach keeps a negative eigenvalue unchanged while the other variances shrink, so one allowed at 1e-10 of
    /// today's largest variance can be a millionth of it a few readings later. Where the variances span more,
    /// clipping eigenvalues moves the small variances by more than the repair removes, so the usual jitter stays.</summary>
    private const double FragileJitter = 1e-13;

    /// <summary>A prediction that multiplies the largest variance by more than this restarts the stream (1/ε).</summary>
    private const double RestartGrowth = 1e16;

    /// <summary>Largest state or observation dimension handled by the stack-only kernel.</summary>
    private const int CompactMaxDimension = 8;

    private readonly LinearGaussianModel model;
    private readonly int n;
    private readonly int m;
    private readonly int covSlot;
    private readonly int infSlot;
    private readonly int readingsSlot;
    private readonly int scaleSlot;
    private readonly int diffuseBudget;
    private readonly double[] initialFactor;
    private readonly int initialRank;
    private readonly double largestNoise;

    /// <summary>Covariances whose largest variance exceeds this get the Cholesky PSD test in the fast kernels.</summary>
    private readonly double fragileVariance;
    private readonly double[]? fixedTransition;
    private readonly double[]? fixedNoise;
    private readonly double[]? fixedOffset;
    private readonly bool scalar;
    private readonly bool twoByOne;
    private readonly bool hasControl;
    private readonly bool diagonalObservationNoise;
    private readonly bool compact;
    private readonly int compactWorkLength;
    private readonly double scalarTransition;
    private readonly double scalarNoise;
    private readonly double scalarOffset;
    private readonly double scalarObservation;
    private readonly double scalarObservationNoise;
    private readonly double scalarObservationOffset;
    private readonly double[] twoStateTransition = new double[10];

    /// <summary>The two-state kernel's h0, h1, r, d, and ‖h‖₁ − |h0|, ‖h‖₁ − |h1|, ‖h‖₁ (see <see cref="KeepsFeedback"/>).</summary>
    private readonly double[] twoStateObservation = new double[7];

    /// <summary>Per-thread F, Q, c of gap-dependent scalar and two-state models (kept off the kernels' stack frames).</summary>
    [ThreadStatic]
    private static double[]? smallDiscretization;
    private readonly bool small;
    private readonly double[] smallTransition = new double[16];
    private readonly double[] smallTransitionTransposed = new double[16];
    private readonly double[] smallNoise = new double[16];
    private readonly double[] smallOffset = new double[4];
    private readonly double[] smallObservation = new double[8];

    /// <summary>For the small kernel's <see cref="KeepsFeedback"/> test: ‖H‖∞ (m = 2), and for m = 1 the unit
    /// diagonal of the n states and ‖h‖₁ − |h_i| (padded with zeros).</summary>
    private readonly double smallObservationNorm;
    private readonly double[] smallUnitDiagonal = new double[4];
    private readonly double[] smallOffDiagonalLoading = new double[4];

    /// <summary>Creates the filter.</summary>
    public KalmanFilter(LinearGaussianModel model, string family = "kalman")
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        n = model.StateDimension;
        m = model.ObservationDimension;
        covSlot = MeanSlot + n;
        infSlot = covSlot + (n * n);
        readingsSlot = infSlot + (n * n);
        scaleSlot = readingsSlot + 1;
        diffuseBudget = DiffuseInitialization.ReadingBudgetPerState * n;
        initialFactor = new double[n * n];
        initialRank = model.IsDiffuse ? DiffuseInitialization.Factor(model.InitialDiffuse, n, initialFactor) : 0;
        for (var i = 0; i < m; i++)
        {
            largestNoise = Math.Max(largestNoise, model.ObservationNoise[(i * m) + i]);
        }

        fragileVariance = FragileToNoise * largestNoise;

        hasControl = model.ControlDimension > 0;
        RestartFloor = UnitGapNoise(model, n);
        if (model.Dynamics.IsTimeInvariant)
        {
            fixedTransition = new double[n * n];
            fixedNoise = new double[n * n];
            fixedOffset = new double[n];
            model.Dynamics.Discretize(1.0, fixedTransition, fixedNoise, fixedOffset);
        }

        scalar = n == 1 && m == 1 && !hasControl;
        if (scalar)
        {
            scalarObservation = model.Observation[0];
            scalarObservationNoise = model.ObservationNoise[0];
            scalarObservationOffset = model.ObservationOffset[0];
            if (fixedTransition is not null)
            {
                scalarTransition = fixedTransition[0];
                scalarNoise = fixedNoise![0];
                scalarOffset = fixedOffset![0];
            }
        }

        twoByOne = n == 2 && m == 1 && !hasControl;
        if (twoByOne)
        {
            if (fixedTransition is not null)
            {
                fixedTransition.CopyTo(twoStateTransition, 0);
                fixedNoise!.CopyTo(twoStateTransition, 4);
                fixedOffset!.CopyTo(twoStateTransition, 8);
            }

            twoStateObservation[0] = model.Observation[0];
            twoStateObservation[1] = model.Observation[1];
            twoStateObservation[2] = model.ObservationNoise[0];
            twoStateObservation[3] = model.ObservationOffset[0];
            var loading = ObservationNorm(model.Observation, 2, [0]);
            twoStateObservation[4] = loading - Math.Abs(model.Observation[0]);
            twoStateObservation[5] = loading - Math.Abs(model.Observation[1]);
            twoStateObservation[6] = loading;
        }
        compact = n <= CompactMaxDimension && m <= CompactMaxDimension;
        compactWorkLength = (4 * n * n) + n + (3 * m * n) + (m * m) + (2 * m);
        small = n is >= 2 and <= 4 && m <= 2 && !(n == 2 && m == 1) && Vector256.IsHardwareAccelerated;
        if (small)
        {
            if (fixedTransition is not null)
            {
                PadTransition(fixedTransition, fixedNoise!, fixedOffset!, smallTransition, smallTransitionTransposed, smallNoise, smallOffset);
            }

            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    smallObservation[(i * 4) + j] = model.Observation[(i * n) + j];
                }
            }

            ReadOnlySpan<int> rows = [0, 1];
            smallObservationNorm = ObservationNorm(model.Observation, n, rows[..m]);
            for (var i = 0; i < n; i++)
            {
                smallUnitDiagonal[i] = 1.0;
                smallOffDiagonalLoading[i] = smallObservationNorm - Math.Abs(model.Observation[i]);
            }
        }
        diagonalObservationNoise = true;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                if (i != j && model.ObservationNoise[(i * m) + j] != 0.0)
                {
                    diagonalObservationNoise = false;
                }
            }
        }

        Info = new EstimatorInfo
        {
            Family = family,
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = model.ControlDimension,
            StateLength = infSlot + (model.IsDiffuse ? (n * n) + 2 : 0),
            BackwardRecordLength = model.IsDiffuse ? DiffuseSmoothing.RecordLength(n) : GaussianBackward.RecordLength(n),
            SmoothingMessageLength = model.IsDiffuse ? DiffuseSmoothing.MessageLength(n) : GaussianBackward.MessageLength(n),
            UsesTimeGap = !model.Dynamics.IsTimeInvariant,
        };
    }

    /// <summary>The model parameters.</summary>
    public LinearGaussianModel Model => model;

    /// <summary>Offset of the filtered mean in the state buffer (for filters built from Kalman steps, such as IMM).</summary>
    internal static int MeanOffset => MeanSlot;

    /// <summary>Offset of the filtered covariance in the state buffer.</summary>
    internal int CovarianceOffset => covSlot;

    /// <summary>Covariances whose largest variance exceeds this get the Cholesky test for positive
    /// semi-definiteness in the fast kernels (a vague prior still in them, a huge gap).</summary>
    internal double FragileVariance => fragileVariance;

    /// <summary>True while part of the stream's prior is still diffuse (exact diffuse initialisation not yet over).</summary>
    /// <remarks>The slot holds the rank of the diffuse factor, 0 once every direction is determined. Past the reading
    /// budget the remaining directions are reported with a stated finite variance but still resolved exactly.</remarks>
    internal static bool IsStillDiffuse(ReadOnlySpan<double> state) => state[DiffuseSlot] != 0.0;

    /// <summary>Offset of the step counter; a non-zero count makes the next step predict before updating.</summary>
    internal static int StepCountOffset => StepsSlot;

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        state[StepsSlot] = 0.0;
        state[DiffuseSlot] = initialRank;
        model.InitialMean.CopyTo(state.Slice(MeanSlot, n));
        model.InitialCovariance.CopyTo(state.Slice(covSlot, n * n));
        if (model.IsDiffuse)
        {
            initialFactor.CopyTo(state.Slice(infSlot, n * n));
            state[readingsSlot] = 0.0;
            state[scaleSlot] = 0.0;
        }
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        StepWithNoise(state, observation, estimate, backwardRecord, default, default);
    }

    /// <summary>
    /// A step with a stream's own noise instead of the model's: R (m×m) and, when the step predicts, Q for this
    /// observation's gap (n×n); an empty span keeps the model's. Runs the general kernel (exact diffuse start, guard
    /// rails and restarts as <see cref="Step"/>); used by filters whose streams learn their noise.
    /// </summary>
    internal void StepWithNoise(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord, ReadOnlySpan<double> observationNoise, ReadOnlySpan<double> transitionNoise)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        estimate.Reset();
        var first = state[StepsSlot] == 0.0;
        var restarted = !Dispatch(state, observation, estimate, backwardRecord, observationNoise, transitionNoise);
        if (restarted)
        {
            // The prediction grew some variance beyond double precision: what the state knew is lost in rounding, so
            // the stream starts again from its prior with this reading as the first.
            Initialize(state, 0);
            estimate.Reset();
            Dispatch(state, observation, estimate, backwardRecord, observationNoise, transitionNoise);
        }

        if (estimate.Flags != EstimateFlags.None)
        {
            Guard(state, estimate);
        }

        if (!restarted && !first && (estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            // A non-finite state (a prediction or update that overflowed) was reset to the prior: the stream starts again
            // from it with this reading as the first, as a stream does whose first reading this is (a first step does
            // not predict). When that also fails, the stream stays at the prior and the next reading is the first.
            restarted = true;
            estimate.Reset();
            Dispatch(state, observation, estimate, backwardRecord, observationNoise, transitionNoise);
            if (estimate.Flags != EstimateFlags.None)
            {
                Guard(state, estimate);
            }
        }

        if (restarted)
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
    }

    /// <summary>
    /// After a re-initialised step: true when it restarted from the prior (for a huge gap, or after a non-finite state)
    /// and assimilated its reading as a first step (<see cref="StepWithNoise"/>), so its record is the first of the new
    /// stretch and the next step predicts from it; false when the reading could not be assimilated from the prior
    /// either and the state was left at the prior (<see cref="Guard"/>: no step counted, the record holds the failed
    /// step and the next reading is the stretch's first).
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => state[StepsSlot] > 0.0;

    /// <summary>True when the largest predicted variance exceeds the largest previous one by more than
    /// <see cref="RestartGrowth"/> (a huge gap): the previous state is then below rounding next to the new
    /// uncertainty. A state whose variances are all 0 never restarts.</summary>
    /// <remarks>The previous variance is floored by <paramref name="noiseFloor"/>, the largest transition noise variance
    /// of a unit gap (<see cref="RestartFloor"/>): a state made precise by precise readings (a filtered variance 10⁻¹⁷
    /// beside a level noise of 0.1) grows by the ordinary Q of the next reading, which loses nothing the state knew;
    /// only a growth far beyond a unit gap's noise (a huge gap) does.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool LostInRounding(double predictedLargest, double previousLargest, double noiseFloor) =>
        predictedLargest > RestartGrowth * Math.Max(previousLargest, noiseFloor) && previousLargest > 0.0;

    /// <summary>The largest diagonal entry of Q for a unit time gap: the floor of the previous variance in
    /// <see cref="LostInRounding"/>.</summary>
    internal double RestartFloor { get; }

    /// <summary>The largest finite diagonal entry of the transition noise Q for a unit time gap (0 when none is).</summary>
    private static double UnitGapNoise(LinearGaussianModel model, int n)
    {
        var transition = new double[n * n];
        var noise = new double[n * n];
        var offset = new double[n];
        model.Dynamics.Discretize(1.0, transition, noise, offset);
        var largest = 0.0;
        for (var i = 0; i < n; i++)
        {
            var q = noise[(i * n) + i];
            if (double.IsFinite(q))
            {
                largest = Math.Max(largest, q);
            }
        }

        return largest;
    }

    /// <summary>Runs the step's kernel; false when the prediction was lost in rounding (nothing written to the state).</summary>
    private bool Dispatch(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord, ReadOnlySpan<double> observationNoise, ReadOnlySpan<double> transitionNoise)
    {
        if (!observationNoise.IsEmpty || !transitionNoise.IsEmpty)
        {
            return GeneralStep(state, observation, estimate, backwardRecord, observationNoise, transitionNoise);
        }

        if (scalar && state[DiffuseSlot] == 0.0 && backwardRecord.IsEmpty)
        {
            return ScalarStep(state, observation, estimate);
        }

        if (twoByOne && state[DiffuseSlot] == 0.0 && backwardRecord.IsEmpty)
        {
            return TwoStateStep(state, observation, estimate);
        }

        if (small && state[DiffuseSlot] == 0.0 && backwardRecord.IsEmpty && WhollyObservedOrMissing(observation.Values))
        {
            return SmallStep(state, observation, estimate);
        }

        if (compact && state[DiffuseSlot] == 0.0 && backwardRecord.IsEmpty)
        {
            return CompactStep(state, observation, estimate);
        }

        return GeneralStep(state, observation, estimate, backwardRecord, default, default);
    }

    /// <summary>The n = 1, m = 1 step in scalars with the model's numbers held in fields: the same algebra as
    /// <see cref="GeneralStep"/> (Joseph form (1 − k h)² p + k² r), one division, no bounds checks (the state length
    /// is checked once; every estimate array has at least one element).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ScalarStep(Span<double> state, in Observation observation, Estimate estimate)
    {
        if (state.Length < MeanSlot + 2)
        {
            ThrowShortState(state.Length);
        }

        ref var st = ref MemoryMarshal.GetReference(state);
        ref var steps = ref Unsafe.Add(ref st, StepsSlot);
        ref var mean = ref Unsafe.Add(ref st, MeanSlot);
        ref var variance = ref Unsafe.Add(ref st, MeanSlot + 1);
        var a = mean;
        var p = variance;
        var h = scalarObservation;
        var r = scalarObservationNoise;
        var hh = h * h;
        double s;
        if (steps != 0.0)
        {
            double f, q, c;
            if (fixedTransition is not null)
            {
                f = scalarTransition;
                q = scalarNoise;
                c = scalarOffset;
            }
            else
            {
                var fqc = DiscretizeSmall(observation.TimeGap);
                f = fqc[0];
                q = fqc[1];
                c = fqc[2];
            }

            // S = h² (f² p + q) + r, evaluated from p directly so that it does not wait for P⁻.
            var ff = f * f;
            a = (f * a) + c;
            s = (hh * ff * p) + ((hh * q) + r);
            var previous = p;
            p = (ff * p) + q;
            if (LostInRounding(p, previous, RestartFloor))
            {
                return false;
            }
        }
        else
        {
            s = (hh * p) + r;
        }

        var predictedY = (h * a) + scalarObservationOffset;
        MemoryMarshal.GetArrayDataReference(estimate.PredictedMean) = a;
        MemoryMarshal.GetArrayDataReference(estimate.PredictedCovariance) = p;
        MemoryMarshal.GetArrayDataReference(estimate.ObservationMean) = predictedY;
        MemoryMarshal.GetArrayDataReference(estimate.ObservationCovariance) = s;
        var y = observation.Values[0];
        var updated = false;
        var nis = 0.0;
        if (double.IsFinite(y))
        {
            var inv = 1.0 / s;
            var v = y - predictedY;
            nis = v * v * inv;
            if (!(s > 0.0) || !double.IsFinite(nis))
            {
                SkipReading(estimate, s > 0.0 ? 1 : 0);
            }
            else
            {
                var k = p * h * inv;
                var oneMinusKh = 1.0 - (p * hh * inv);
                a += k * v;
                p = (oneMinusKh * oneMinusKh * p) + (k * k * r);
                updated = true;
            }
        }

        MemoryMarshal.GetArrayDataReference(estimate.StateMean) = a;
        MemoryMarshal.GetArrayDataReference(estimate.StateCovariance) = p;
        mean = a;
        variance = p;
        steps += 1.0;
        if (!double.IsFinite(a) || !(p >= 0.0) || double.IsInfinity(p))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }

        // Last, so that the state is not held across the call.
        if (updated)
        {
            estimate.NormalizedInnovationSquared = nis;
            estimate.ObservedCount = 1;
            estimate.LogLikelihood = -0.5 * (Log2Pi + Math.Log(s) + nis);
        }

        return true;
    }

    /// <summary>F, Q, c of a gap-dependent model with n ≤ 2 into the calling thread's buffer (F: 0..n², Q: 4..,
    /// c: 8.. for n = 2; F, Q, c at 0, 1, 2 for n = 1).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private double[] DiscretizeSmall(double timeGap)
    {
        var buffer = smallDiscretization ??= new double[10];
        var nn = n * n;
        var f = buffer.AsSpan(0, nn);
        var q = buffer.AsSpan(n == 1 ? 1 : 4, nn);
        var c = buffer.AsSpan(n == 1 ? 2 : 8, n);
        f.Clear();
        q.Clear();
        c.Clear();
        model.Dynamics.Discretize(timeGap, f, q, c);
        return buffer;
    }

    [DoesNotReturn]
    private void ThrowShortState(int length) =>
        throw new ArgumentException($"The state buffer has {length} elements; this estimator needs {Info.StateLength}.");

    /// <summary>The n = 2, m = 1 step (local linear trend and friends) in scalars: the same algebra as
    /// <see cref="GeneralStep"/>, unrolled.</summary>
    private bool TwoStateStep(Span<double> fullState, in Observation observation, Estimate estimate)
    {
        // Fixed-length views let the JIT drop the per-element bounds checks.
        var state = fullState[..(MeanSlot + 6)];
        double a0 = state[MeanSlot], a1 = state[MeanSlot + 1];
        double p00 = state[MeanSlot + 2], p01 = state[MeanSlot + 3], p11 = state[MeanSlot + 5];
        ReadOnlySpan<double> hrd = twoStateObservation;
        double h0 = hrd[0], h1 = hrd[1];
        var r = hrd[2];
        double ph0, ph1, s;
        if (state[StepsSlot] != 0.0)
        {
            ReadOnlySpan<double> fqc = fixedTransition is not null ? twoStateTransition : DiscretizeSmall(observation.TimeGap);

            double f00 = fqc[0], f01 = fqc[1], f10 = fqc[2], f11 = fqc[3];
            double q00 = fqc[4], q01 = 0.5 * (fqc[5] + fqc[6]), q11 = fqc[7];
            var na0 = (f00 * a0) + (f01 * a1) + fqc[8];
            var na1 = (f10 * a0) + (f11 * a1) + fqc[9];
            a0 = na0;
            a1 = na1;

            // P⁻ h' = F (P g') + Q h' and S = g P g' + h Q h' + r with g = h F, taken from P directly so that
            // the gain does not wait for P⁻ = F P F' + Q (computed alongside for the outputs and the Joseph form).
            var g0 = (h0 * f00) + (h1 * f10);
            var g1 = (h0 * f01) + (h1 * f11);
            var pg0 = (p00 * g0) + (p01 * g1);
            var pg1 = (p01 * g0) + (p11 * g1);
            var qh0 = (q00 * h0) + (q01 * h1);
            var qh1 = (q01 * h0) + (q11 * h1);
            ph0 = (f00 * pg0) + (f01 * pg1) + qh0;
            ph1 = (f10 * pg0) + (f11 * pg1) + qh1;
            s = Math.Max((g0 * pg0) + (g1 * pg1), 0.0) + ((h0 * qh0) + (h1 * qh1) + r);
            var fp00 = (f00 * p00) + (f01 * p01);
            var fp01 = (f00 * p01) + (f01 * p11);
            var fp10 = (f10 * p00) + (f11 * p01);
            var fp11 = (f10 * p01) + (f11 * p11);
            var previous = Math.Max(p00, p11);
            p00 = (fp00 * f00) + (fp01 * f01) + q00;
            p01 = (fp00 * f10) + (fp01 * f11) + q01;
            p11 = (fp10 * f10) + (fp11 * f11) + q11;
            if (LostInRounding(Math.Max(p00, p11), previous, RestartFloor))
            {
                return false;
            }
        }
        else
        {
            ph0 = (p00 * h0) + (p01 * h1);
            ph1 = (p01 * h0) + (p11 * h1);
            s = (h0 * ph0) + (h1 * ph1) + r;
        }

        var predictedY = (h0 * a0) + (h1 * a1) + hrd[3];
        var pm = estimate.PredictedMean.AsSpan(0, 2);
        var pc = estimate.PredictedCovariance.AsSpan(0, 4);
        pm[0] = a0;
        pm[1] = a1;
        pc[0] = p00;
        pc[1] = p01;
        pc[2] = p01;
        pc[3] = p11;
        estimate.ObservationMean[0] = predictedY;
        estimate.ObservationCovariance[0] = s;
        var y = observation.Values[0];
        var nis = 0.0;
        var updated = false;
        if (double.IsFinite(y))
        {
            var v = y - predictedY;
            var inv = 1.0 / s;
            nis = v * v * inv;
            if (!(s > 0.0) || !double.IsFinite(nis))
            {
                SkipReading(estimate, s > 0.0 ? 1 : 0);
            }
            else
            {
                var k0 = ph0 * inv;
                var k1 = ph1 * inv;
                a0 += k0 * v;
                a1 += k1 * v;

                // Joseph form A P A' + K r K' with A = I − K h kept implicit: A P = P − K (h P) = P − K ph',
                // A P A' + K r K' = A P + D K' with D = K r − (A P) h' or K s − P h' (see KeepsFeedback).
                var ap00 = p00 - (k0 * ph0);
                var ap11 = p11 - (k1 * ph1);
                var feedback = KeepsFeedbackTwoStates(ap00, ap11, p00, p11, k0, k1);
                (p00, p01, p11) = JosephTwoStates(feedback, ap00, p01 - (k0 * ph1), p01 - (k1 * ph0), ap11, k0, k1, h0, h1, r, s, ph0, ph1);
                updated = true;
            }
        }

        var sm = estimate.StateMean.AsSpan(0, 2);
        var sc = estimate.StateCovariance.AsSpan(0, 4);
        sm[0] = a0;
        sm[1] = a1;
        sc[0] = p00;
        sc[1] = p01;
        sc[2] = p01;
        sc[3] = p11;
        state[MeanSlot] = a0;
        state[MeanSlot + 1] = a1;
        state[MeanSlot + 2] = p00;
        state[MeanSlot + 3] = p01;
        state[MeanSlot + 4] = p01;
        state[MeanSlot + 5] = p11;
        state[StepsSlot] += 1.0;
        if (!double.IsFinite(a0) || !double.IsFinite(a1) || !double.IsFinite(p00) || !double.IsFinite(p01) || !double.IsFinite(p11))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
        else if (OutsideTwoStateCone(p00, p01, p11))
        {
            Dense.RepairCovariance(state.Slice(covSlot, 4), 2);
            state.Slice(covSlot, 4).CopyTo(sc);
            estimate.Flags |= EstimateFlags.Repaired;
        }

        // Last, so that the state is not held across the call.
        if (updated)
        {
            estimate.NormalizedInnovationSquared = nis;
            estimate.ObservedCount = 1;
            estimate.LogLikelihood = -0.5 * (Log2Pi + Math.Log(s) + nis);
        }

        return true;
    }

    /// <summary>
    /// The proper-prior step without a backward record for models up to <see cref="CompactMaxDimension"/> states and
    /// observations: the same algebra as <see cref="GeneralStep"/> with every temporary on the stack (not cleared),
    /// zero entries of F and H skipped, symmetric products computed once per pair, and the Joseph form applied with
    /// A = I − K H kept implicit: A P = P − K (H P), (A P) A' = A P − (A P H') K', plus K R K'.
    /// </summary>
    [SkipLocalsInit]
    private bool CompactStep(Span<double> state, in Observation observation, Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var nn = n * n;
        Span<double> work = stackalloc double[compactWorkLength];
        var mean = state.Slice(MeanSlot, n);
        var cov = state.Slice(covSlot, nn);
        var pm = estimate.PredictedMean.AsSpan(0, n);
        var pc = estimate.PredictedCovariance.AsSpan(0, nn);

        // Work layout: F, Q, c (gap-dependent models) | F P | U = H P⁻ | update temporaries.
        var fp = work.Slice((2 * nn) + n, nn);
        var u = work.Slice((3 * nn) + n, m * n);
        if (state[StepsSlot] == 0.0)
        {
            mean.CopyTo(pm);
            cov.CopyTo(pc);
        }
        else
        {
            scoped ReadOnlySpan<double> f, q, c;
            if (fixedTransition is not null)
            {
                f = fixedTransition;
                q = fixedNoise;
                c = fixedOffset;
            }
            else
            {
                var fs = work[..nn];
                var qs = work.Slice(nn, nn);
                var cs = work.Slice(2 * nn, n);
                fs.Clear();
                qs.Clear();
                cs.Clear();
                model.Dynamics.Discretize(observation.TimeGap, fs, qs, cs);
                f = fs;
                q = qs;
                c = cs;
            }

            // a⁻ = F a + c (+ B u); FP = F P with zero entries of F skipped.
            ApplySparse(f, n, n, mean, cov, c, pm, fp);

            if (hasControl && !observation.Control.IsEmpty)
            {
                AddControl(observation.Control, pm);
            }

            // P⁻ = F P F' + Q, one product per pair (i ≤ j), symmetric by construction.
            for (var i = 0; i < n; i++)
            {
                var fpi = fp.Slice(i * n, n);
                for (var j = i; j < n; j++)
                {
                    var fj = f.Slice(j * n, n);
                    var acc = 0.5 * (q[(i * n) + j] + q[(j * n) + i]);
                    for (var k = 0; k < n; k++)
                    {
                        acc += fpi[k] * fj[k];
                    }

                    pc[(i * n) + j] = acc;
                    pc[(j * n) + i] = acc;
                }
            }

            if (LostInRounding(LargestVariance(pc, n), LargestVariance(cov, n), RestartFloor))
            {
                return false;
            }

            if (RepairIfIndefinite(pc, n, fragileVariance))
            {
                estimate.Flags |= EstimateFlags.Repaired;
            }
        }

        // Predictive moments of y: ŷ = H a⁻ + d, U = H P⁻, S = U H' + R.
        var h = model.Observation;
        var r = model.ObservationNoise;
        var d = model.ObservationOffset;
        var om = estimate.ObservationMean.AsSpan(0, m);
        var oc = estimate.ObservationCovariance.AsSpan(0, m * m);
        ApplySparse(h, m, n, pm, pc, d, om, u);

        for (var i = 0; i < m; i++)
        {
            var ui = u.Slice(i * n, n);
            for (var j = i; j < m; j++)
            {
                var hj = h.Slice(j * n, n);
                var acc = 0.0;
                for (var k = 0; k < n; k++)
                {
                    acc += ui[k] * hj[k];
                }

                oc[(i * m) + j] = acc;
                oc[(j * m) + i] = acc;
            }
        }

        AddObservationNoise(oc, r, m, fragileVariance, estimate);

        // Observed rows.
        Span<int> observed = stackalloc int[m];
        var y = observation.Values;
        var kObs = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[kObs++] = i;
            }
        }

        if (kObs == 0)
        {
            pm.CopyTo(mean);
            pc.CopyTo(cov);
        }
        else
        {
            CompactUpdate(work[((3 * nn) + n + (m * n))..], observed[..kObs], y, u, pm, pc, mean, cov, estimate);
        }

        CompleteStep(state, mean, cov, n, estimate, fragileVariance);
        return true;
    }

    /// <summary>The largest diagonal entry of an n×n covariance.</summary>
    internal static double LargestVariance(ReadOnlySpan<double> covariance, int n)
    {
        var largest = 0.0;
        for (var i = 0; i < n; i++)
        {
            largest = Math.Max(largest, covariance[(i * n) + i]);
        }

        return largest;
    }

    /// <summary>
    /// S = H P⁻ H' + R from the data part already in <paramref name="observationCovariance"/> (m×m): H P⁻ H' is
    /// positive semi-definite in exact arithmetic, so when rounding (a covariance spanning many orders of magnitude)
    /// has made it indefinite it is repaired first (flagged), and no reported observation variance is ever below R's.
    /// </summary>
    internal static void AddObservationNoise(Span<double> observationCovariance, ReadOnlySpan<double> r, int m, double testAbove, Estimate estimate)
    {
        if (RepairIfIndefinite(observationCovariance, m, testAbove))
        {
            estimate.Flags |= EstimateFlags.Repaired;
        }

        for (var i = 0; i < m * m; i++)
        {
            observationCovariance[i] += r[i];
        }
    }

    /// <summary>The update of <see cref="CompactStep"/> over the observed rows (Joseph form, see there).</summary>
    [SkipLocalsInit]
    private void CompactUpdate(
        Span<double> work,
        ReadOnlySpan<int> observed,
        ReadOnlySpan<double> y,
        ReadOnlySpan<double> u,
        ReadOnlySpan<double> pm,
        ReadOnlySpan<double> pc,
        Span<double> mean,
        Span<double> cov,
        Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var k = observed.Length;
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        var l = work[..(k * k)];
        var kt = work.Slice(k * k, k * n);
        var v = work.Slice((k * k) + (k * n), k);
        var z = work.Slice((k * k) + (k * n) + k, k);
        var ap = work.Slice((k * k) + (k * n) + (2 * k), n * n);
        var d = work.Slice((k * k) + (k * n) + (2 * k) + (n * n), n * k);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            v[a] = y[ia] - om[ia];
            u.Slice(ia * n, n).CopyTo(kt.Slice(a * n, n));
            for (var b = 0; b < k; b++)
            {
                l[(a * k) + b] = oc[(ia * m) + observed[b]];
            }
        }

        if (!Dense.Cholesky(l, k))
        {
            estimate.Flags |= EstimateFlags.ObservationSkipped;
            pm.CopyTo(mean);
            pc.CopyTo(cov);
            return;
        }

        // Kt = S⁻¹ H_o P⁻ (k×n), so K = Kt'.
        Nonlinear.GaussianUpdate.Statistics(l, k, v, z, estimate);
        if (!double.IsFinite(estimate.NormalizedInnovationSquared))
        {
            SkipReading(estimate, k);
            pm.CopyTo(mean);
            pc.CopyTo(cov);
            return;
        }

        Dense.CholeskySolve(l, k, kt, n);

        ApplyGain(pm, pc, kt, u, observed, v, n, mean, ap);
        JosephCovariance(pc, ap, model.Observation, u, observed, kt, model.ObservationNoise, oc, n, m, d, cov);
    }

    /// <summary>
    /// The mean update a = a⁻ + K v into <paramref name="mean"/> and A P⁻ = P⁻ − K U_o into <paramref name="ap"/>
    /// (n×n), with <paramref name="kt"/> = K' (k×n), <paramref name="u"/> = H P⁻ (m×n) and <paramref name="v"/> the
    /// innovation of the k <paramref name="observed"/> rows. <paramref name="mean"/> may be <paramref name="pm"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ApplyGain(
        ReadOnlySpan<double> pm, ReadOnlySpan<double> pc, ReadOnlySpan<double> kt, ReadOnlySpan<double> u, ReadOnlySpan<int> observed, ReadOnlySpan<double> v, int n, Span<double> mean, Span<double> ap)
    {
        pc[..(n * n)].CopyTo(ap);
        for (var i = 0; i < n; i++)
        {
            var acc = pm[i];
            var row = ap.Slice(i * n, n);
            for (var a = 0; a < observed.Length; a++)
            {
                var kai = kt[(a * n) + i];
                acc += kai * v[a];
                var ua = u.Slice(observed[a] * n, n);
                for (var j = 0; j < n; j++)
                {
                    row[j] -= kai * ua[j];
                }
            }

            mean[i] = acc;
        }
    }

    /// <summary>
    /// The Joseph-form covariance P = A P⁻ A' + K R_oo K' (A = I − K H_o) from A P⁻ = P⁻ − K U_o in
    /// <paramref name="ap"/>, as P = A P⁻ + D K' with D (n×k, into <paramref name="d"/>) of <see cref="KeepsFeedback"/>,
    /// one value per pair (i ≤ j). <paramref name="pc"/> is P⁻, <paramref name="kt"/> is K' (k×n), <paramref name="u"/>
    /// is U = H P⁻ (m×n), <paramref name="s"/> the innovation covariance S = U H' + R (m×m), and
    /// <paramref name="observed"/> the k observed rows of H, R, U and S. <paramref name="cov"/> may be
    /// <paramref name="pc"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void JosephCovariance(
        ReadOnlySpan<double> pc,
        ReadOnlySpan<double> ap,
        ReadOnlySpan<double> h,
        ReadOnlySpan<double> u,
        ReadOnlySpan<int> observed,
        ReadOnlySpan<double> kt,
        ReadOnlySpan<double> r,
        ReadOnlySpan<double> s,
        int n,
        int m,
        Span<double> d,
        Span<double> cov)
    {
        var k = observed.Length;
        var feedback = KeepsFeedback(pc, ap, n, kt, h, observed);
        for (var a = 0; a < k; a++)
        {
            var oa = observed[a];
            for (var i = 0; i < n; i++)
            {
                double acc;
                if (feedback)
                {
                    // D = K R_oo − (A P⁻) H_o'.
                    acc = 0.0;
                    for (var b = 0; b < k; b++)
                    {
                        acc += kt[(b * n) + i] * r[(observed[b] * m) + oa];
                    }

                    var row = ap.Slice(i * n, n);
                    var ha = h.Slice(oa * n, n);
                    for (var j = 0; j < n; j++)
                    {
                        acc -= row[j] * ha[j];
                    }
                }
                else
                {
                    // D = K S_oo − U_o'.
                    acc = -u[(oa * n) + i];
                    for (var b = 0; b < k; b++)
                    {
                        acc += kt[(b * n) + i] * s[(observed[b] * m) + oa];
                    }
                }

                d[(i * k) + a] = acc;
            }
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = i; j < n; j++)
            {
                var acc = ap[(i * n) + j];
                for (var a = 0; a < k; a++)
                {
                    acc += d[(i * k) + a] * kt[(a * n) + j];
                }

                cov[(i * n) + j] = acc;
                cov[(j * n) + i] = acc;
            }
        }
    }

    /// <summary>
    /// Which of two forms of the Joseph correction D = K R_oo − (A P⁻) H_o' = K S_oo − U_o' (zero in exact arithmetic
    /// for the optimal gain; P = A P⁻ + D K' either way) keeps P accurate: true for the first, when
    /// ‖A‖∞ · v(A P⁻) ≤ v(P⁻) with A = I − K H_o and v the largest variance (diagonal entry, at least 0).
    /// <paramref name="pc"/> and <paramref name="ap"/> are n×n, <paramref name="kt"/> holds K' (k×n) and
    /// <paramref name="h"/> H (m×n), and <paramref name="rows"/> names the k observed rows of H.
    /// </summary>
    /// <remarks>
    /// The first form feeds the rounding of A P⁻ (and of U = H P⁻) back through A' = I − H_o' K'. When the update
    /// removes most of P⁻'s variance (a vague prior, a long gap), that rounding is of the size of P⁻, far above the
    /// result, and A' is small and cancels it: the reason for the Joseph form. But the feedback multiplies the rounding
    /// of A P⁻ by up to ‖A‖, and when P⁻ has a large variance in a direction the observations barely see, the gain and
    /// A are large while A P⁻ keeps that variance: a 3-state model with 1e9 predicted variance in such a direction and
    /// gains near 1e4 lost 1 % of its smallest filtered variance, and 3e-4 of its log-likelihood over 200 steps. The
    /// second form is built from terms of the size of U without feedback, so its error stays of the order of ε v(P⁻).
    /// The first is kept while its amplified error, ‖A‖∞ ε v(A P⁻), is within that. The largest variance stands for
    /// the largest entry: P⁻ is positive semi-definite and A P⁻ is the filtered covariance (in exact arithmetic), so
    /// their largest entries are on the diagonal, and a diagonal driven below zero by rounding (the cancellation of a
    /// vague prior) keeps the feedback that repairs it.
    /// <para>The bound ‖A‖∞ ≤ 1 + ‖K‖∞ ‖H_o‖∞, O(nk), settles most updates (a filter in its steady state is far
    /// from the threshold); ‖A‖∞ itself only when it does not: with one observed row h, row i of A sums to
    /// |1 − k_i h_i| + |k_i| (‖h‖₁ − |h_i|), O(n); with more, O(n²k). The small and two-state kernels compute the same
    /// numbers in the same order (<see cref="KeepsFeedbackOneRow"/>, <see cref="KeepsFeedbackTwoRows"/>,
    /// <see cref="KeepsFeedbackTwoStates"/>), and so do the adaptive filter's kernels (the same methods, and for
    /// independent blocks the same sums over the blocks), so every kernel takes the same decision.</para>
    /// </remarks>
    internal static bool KeepsFeedback(ReadOnlySpan<double> pc, ReadOnlySpan<double> ap, int n, ReadOnlySpan<double> kt, ReadOnlySpan<double> h, ReadOnlySpan<int> rows)
    {
        var updated = LargestVariance(ap, n);
        var predicted = LargestVariance(pc, n);
        var gainNorm = 0.0;
        for (var i = 0; i < n; i++)
        {
            var row = 0.0;
            for (var a = 0; a < rows.Length; a++)
            {
                row += Math.Abs(kt[(a * n) + i]);
            }

            gainNorm = Math.Max(gainNorm, row);
        }

        var loading = ObservationNorm(h, n, rows);
        if ((1.0 + (gainNorm * loading)) * updated <= predicted)
        {
            return true;
        }

        if (rows.Length == 1)
        {
            var hr = h.Slice(rows[0] * n, n);
            var gain = 0.0;
            for (var i = 0; i < n; i++)
            {
                gain = Math.Max(gain, Math.Abs(1.0 - (kt[i] * hr[i])) + (Math.Abs(kt[i]) * (loading - Math.Abs(hr[i]))));
            }

            return gain * updated <= predicted;
        }

        var norm = 0.0;
        for (var i = 0; i < n; i++)
        {
            var row = 0.0;
            for (var j = 0; j < n; j++)
            {
                var x = i == j ? 1.0 : 0.0;
                for (var a = 0; a < rows.Length; a++)
                {
                    x -= kt[(a * n) + i] * h[(rows[a] * n) + j];
                }

                row += Math.Abs(x);
            }

            norm = Math.Max(norm, row);
        }

        return norm * updated <= predicted;
    }

    /// <summary>‖H_o‖∞: the largest sum of |H_ij| over a row of H (m×n) named in <paramref name="rows"/>.</summary>
    internal static double ObservationNorm(ReadOnlySpan<double> h, int n, ReadOnlySpan<int> rows)
    {
        var norm = 0.0;
        foreach (var i in rows)
        {
            var row = 0.0;
            for (var j = 0; j < n; j++)
            {
                row += Math.Abs(h[(i * n) + j]);
            }

            norm = Math.Max(norm, row);
        }

        return norm;
    }

    private void AddControl(ReadOnlySpan<double> control, Span<double> pm)
    {
        var u = model.ControlDimension;
        for (var i = 0; i < n; i++)
        {
            var s = 0.0;
            for (var j = 0; j < u; j++)
            {
                var uj = control[j];
                if (double.IsFinite(uj))
                {
                    s += model.Control[(i * u) + j] * uj;
                }
            }

            pm[i] += s;
        }
    }

    /// <summary>True when every component of y is observed or none is (the cases <see cref="SmallStep"/> takes).</summary>
    private bool WhollyObservedOrMissing(ReadOnlySpan<double> y)
    {
        var finite = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                finite++;
            }
        }

        return finite == 0 || finite == m;
    }

    /// <summary>Writes F, F' and the symmetric part of Q padded to 4×4 (zeros outside n×n), and c padded to 4.</summary>
    private void PadTransition(ReadOnlySpan<double> f, ReadOnlySpan<double> q, ReadOnlySpan<double> c, Span<double> fp, Span<double> ftp, Span<double> qp, Span<double> cp)
    {
        if (n < 4)
        {
            fp.Clear();
            ftp.Clear();
            qp.Clear();
            cp.Clear();
        }

        for (var i = 0; i < n; i++)
        {
            cp[i] = c[i];
            for (var j = 0; j < n; j++)
            {
                fp[(i * 4) + j] = f[(i * n) + j];
                ftp[(j * 4) + i] = f[(i * n) + j];
                qp[(i * 4) + j] = 0.5 * (q[(i * n) + j] + q[(j * n) + i]);
            }
        }
    }

    /// <summary>
    /// The proper-prior step without a backward record for 2–4 states and 1–2 observations, all observed or all
    /// missing, with the rows of 4×4 (zero-padded) matrices in 256-bit vectors. Same algebra as
    /// <see cref="GeneralStep"/>: P⁻ = F (P F') + Q; U = H P⁻, S = U H' + R, K' = S⁻¹ U; the Joseph form with
    /// A = I − K H kept implicit, computed by columns (P⁻ is symmetric): (A P)_{:,j} = P⁻_{:,j} − K U_{:,j},
    /// W = (A P) H', P = A P − W K' + (K R) K'; covariances symmetrised.
    /// </summary>
    [SkipLocalsInit]
    private bool SmallStep(Span<double> state, in Observation observation, Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var nn = n * n;
        Span<double> buffer = stackalloc double[60];
        var pad = buffer[..16];
        var mean4 = buffer.Slice(16, 4);
        var work = buffer.Slice(20, 40);
        var mean = state.Slice(MeanSlot, n);
        var cov = state.Slice(covSlot, nn);

        // Previous filtered moments, padded to 4.
        scoped ReadOnlySpan<double> prev;
        if (n == 4)
        {
            prev = cov;
            mean.CopyTo(mean4);
        }
        else
        {
            pad.Clear();
            mean4.Clear();
            for (var i = 0; i < n; i++)
            {
                mean4[i] = mean[i];
                for (var j = 0; j < n; j++)
                {
                    pad[(i * 4) + j] = cov[(i * n) + j];
                }
            }

            prev = pad;
        }

        Vector256<double> a = Vector256.Create((ReadOnlySpan<double>)mean4);
        Vector256<double> p0, p1, p2, p3;
        if (state[StepsSlot] == 0.0)
        {
            p0 = Vector256.Create(prev);
            p1 = Vector256.Create(prev[4..]);
            p2 = Vector256.Create(prev[8..]);
            p3 = Vector256.Create(prev[12..]);
        }
        else
        {
            scoped ReadOnlySpan<double> fr = smallTransition, ftr = smallTransitionTransposed, qr = smallNoise, cr = smallOffset;
            if (fixedTransition is null)
            {
                // Gap-dependent dynamics: the calling thread keeps the padded F, F', Q, c of the last gap it saw for
                // this filter (Discretize is a pure function of the gap), so regular sampling discretises once.
                var cache = PaddedDiscretization.ForThread;
                if (!ReferenceEquals(cache.Owner, this) || cache.Gap != observation.TimeGap)
                {
                    var fs = work[..nn];
                    var qs = work.Slice(nn, nn);
                    var cs = work.Slice(2 * nn, n);
                    model.Dynamics.Discretize(observation.TimeGap, fs, qs, cs);
                    PadTransition(fs, qs, cs, cache.Transition, cache.TransitionTransposed, cache.Noise, cache.Offset);
                    cache.Owner = this;
                    cache.Gap = observation.TimeGap;
                }

                fr = cache.Transition;
                ftr = cache.TransitionTransposed;
                qr = cache.Noise;
                cr = cache.Offset;
            }

            var ft0 = Vector256.Create(ftr);
            var ft1 = Vector256.Create(ftr[4..]);
            var ft2 = Vector256.Create(ftr[8..]);
            var ft3 = Vector256.Create(ftr[12..]);

            // a⁻ = F a + c = Σ_k a_k F'_k + c.
            var am = Vector256.Create((ReadOnlySpan<double>)cr) + (ft0 * mean4[0]) + (ft1 * mean4[1]) + (ft2 * mean4[2]) + (ft3 * mean4[3]);

            // G = P F' (rows), then P⁻ = F G + Q (rows).
            var g0 = (ft0 * prev[0]) + (ft1 * prev[1]) + (ft2 * prev[2]) + (ft3 * prev[3]);
            var g1 = (ft0 * prev[4]) + (ft1 * prev[5]) + (ft2 * prev[6]) + (ft3 * prev[7]);
            var g2 = (ft0 * prev[8]) + (ft1 * prev[9]) + (ft2 * prev[10]) + (ft3 * prev[11]);
            var g3 = (ft0 * prev[12]) + (ft1 * prev[13]) + (ft2 * prev[14]) + (ft3 * prev[15]);
            p0 = Vector256.Create(qr) + (g0 * fr[0]) + (g1 * fr[1]) + (g2 * fr[2]) + (g3 * fr[3]);
            p1 = Vector256.Create(qr[4..]) + (g0 * fr[4]) + (g1 * fr[5]) + (g2 * fr[6]) + (g3 * fr[7]);
            p2 = Vector256.Create(qr[8..]) + (g0 * fr[8]) + (g1 * fr[9]) + (g2 * fr[10]) + (g3 * fr[11]);
            p3 = Vector256.Create(qr[12..]) + (g0 * fr[12]) + (g1 * fr[13]) + (g2 * fr[14]) + (g3 * fr[15]);
            (p0, p1, p2, p3) = Symmetrize4(p0, p1, p2, p3, work);
            var previous = Math.Max(Math.Max(prev[0], prev[5]), Math.Max(prev[10], prev[15]));
            if (LostInRounding(Math.Max(Math.Max(p0[0], p1[1]), Math.Max(p2[2], p3[3])), previous, RestartFloor))
            {
                return false;
            }

            a = am;
            if (hasControl && !observation.Control.IsEmpty)
            {
                a.CopyTo(mean4);
                AddControl(observation.Control, mean4);
                a = Vector256.Create((ReadOnlySpan<double>)mean4);
            }
        }

        // Predicted moments out.
        a.CopyTo(mean4);
        var pm = estimate.PredictedMean;
        var pc = estimate.PredictedCovariance;
        mean4[..n].CopyTo(pm);
        Store(p0, p1, p2, p3, n, pc);

        // Predictive moments of y: ŷ = H a⁻ + d, U = H P⁻, S = U H' + R.
        ReadOnlySpan<double> h = smallObservation;
        var r = model.ObservationNoise;
        var d = model.ObservationOffset;
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        var h0 = Vector256.Create(h);
        var u0 = (p0 * h[0]) + (p1 * h[1]) + (p2 * h[2]) + (p3 * h[3]);
        om[0] = Vector256.Sum(h0 * a) + d[0];
        var y = observation.Values;
        if (m == 1)
        {
            var hph = Vector256.Sum(u0 * h0);
            if (!(hph >= 0.0))
            {
                // H P⁻ H' ≥ 0: a negative value is rounding in a covariance that spans many orders of magnitude.
                hph = 0.0;
                estimate.Flags |= EstimateFlags.Repaired;
            }

            var s = hph + r[0];
            oc[0] = s;
            if (double.IsFinite(y[0]))
            {
                var l00 = Math.Sqrt(s);
                var v0 = y[0] - om[0];
                var w0 = v0 / l00;
                if (!(s > 0.0) || double.IsInfinity(s) || !double.IsFinite(w0 * w0))
                {
                    SkipReading(estimate, s > 0.0 && !double.IsInfinity(s) ? 1 : 0);
                }
                else
                {
                    // K' = S⁻¹ U; the Joseph form by columns.
                    var kt0 = u0 / l00 / l00;
                    estimate.ObservedCount = 1;
                    estimate.NormalizedInnovationSquared = w0 * w0;
                    estimate.LogLikelihood = -0.5 * (Log2Pi + (2.0 * Math.Log(l00)) + (w0 * w0));
                    a += kt0 * v0;
                    var kts = work[..4];
                    var us = work.Slice(4, 4);
                    kt0.CopyTo(kts);
                    u0.CopyTo(us);
                    var c0 = p0 - (kt0 * us[0]);
                    var c1 = p1 - (kt0 * us[1]);
                    var c2 = p2 - (kt0 * us[2]);
                    var c3 = p3 - (kt0 * us[3]);
                    var d0 = KeepsFeedbackOneRow(LargestDiagonal(c0, c1, c2, c3), LargestDiagonal(p0, p1, p2, p3), kt0, h0) ? (kt0 * r[0]) - ((c0 * h[0]) + (c1 * h[1]) + (c2 * h[2]) + (c3 * h[3])) : (kt0 * s) - u0;
                    p0 = c0 + (d0 * kts[0]);
                    p1 = c1 + (d0 * kts[1]);
                    p2 = c2 + (d0 * kts[2]);
                    p3 = c3 + (d0 * kts[3]);
                    (p0, p1, p2, p3) = Symmetrize4(p0, p1, p2, p3, work);
                }
            }
        }
        else
        {
            var h1 = Vector256.Create(h[4..]);
            var u1 = (p0 * h[4]) + (p1 * h[5]) + (p2 * h[6]) + (p3 * h[7]);
            om[1] = Vector256.Sum(h1 * a) + d[1];
            oc[0] = Vector256.Sum(u0 * h0);
            oc[1] = Vector256.Sum(u0 * h1);
            oc[2] = Vector256.Sum(u1 * h0);
            oc[3] = Vector256.Sum(u1 * h1);
            AddObservationNoise(oc, r, 2, fragileVariance, estimate);
            double s00 = oc[0], s10 = oc[2], s11 = oc[3];
            if (double.IsFinite(y[0]))
            {
                // Cholesky of S: l00, l10, l11 (the same checks as Dense.Cholesky).
                var l00 = Math.Sqrt(s00);
                var l10 = s10 * (1.0 / l00);
                var e11 = s11 - (l10 * l10);
                var l11 = Math.Sqrt(e11);
                var v0 = y[0] - om[0];
                var v1 = y[1] - om[1];
                var w0 = v0 / l00;
                var w1 = (v1 - (l10 * w0)) / l11;
                var nis = (w0 * w0) + (w1 * w1);
                var factored = s00 > 0.0 && !double.IsInfinity(s00) && e11 > 0.0 && !double.IsInfinity(e11);
                if (!factored || !double.IsFinite(nis))
                {
                    SkipReading(estimate, factored ? 2 : 0);
                }
                else
                {
                    var z0 = u0 / l00;
                    var z1 = (u1 - (z0 * l10)) / l11;
                    var kt1 = z1 / l11;
                    var kt0 = (z0 - (kt1 * l10)) / l00;
                    estimate.ObservedCount = 2;
                    estimate.NormalizedInnovationSquared = nis;
                    estimate.LogLikelihood = -0.5 * ((2 * Log2Pi) + (2.0 * (Math.Log(l00) + Math.Log(l11))) + nis);
                    a += (kt0 * v0) + (kt1 * v1);
                    var kt = work[..8];
                    var us = work.Slice(8, 8);
                    kt0.CopyTo(kt);
                    kt1.CopyTo(kt[4..]);
                    u0.CopyTo(us);
                    u1.CopyTo(us[4..]);
                    var c0 = p0 - (kt0 * us[0]) - (kt1 * us[4]);
                    var c1 = p1 - (kt0 * us[1]) - (kt1 * us[5]);
                    var c2 = p2 - (kt0 * us[2]) - (kt1 * us[6]);
                    var c3 = p3 - (kt0 * us[3]) - (kt1 * us[7]);
                    Vector256<double> d0, d1;
                    if (KeepsFeedbackTwoRows(LargestDiagonal(c0, c1, c2, c3), LargestDiagonal(p0, p1, p2, p3), kt0, kt1, h))
                    {
                        d0 = (kt0 * r[0]) + (kt1 * r[2]) - ((c0 * h[0]) + (c1 * h[1]) + (c2 * h[2]) + (c3 * h[3]));
                        d1 = (kt0 * r[1]) + (kt1 * r[3]) - ((c0 * h[4]) + (c1 * h[5]) + (c2 * h[6]) + (c3 * h[7]));
                    }
                    else
                    {
                        d0 = (kt0 * s00) + (kt1 * s10) - u0;
                        d1 = (kt0 * s10) + (kt1 * s11) - u1;
                    }

                    p0 = c0 + (d0 * kt[0]) + (d1 * kt[4]);
                    p1 = c1 + (d0 * kt[1]) + (d1 * kt[5]);
                    p2 = c2 + (d0 * kt[2]) + (d1 * kt[6]);
                    p3 = c3 + (d0 * kt[3]) + (d1 * kt[7]);
                    (p0, p1, p2, p3) = Symmetrize4(p0, p1, p2, p3, work);
                }
            }
        }

        // Filtered moments out and into the state.
        a.CopyTo(mean4);
        mean4[..n].CopyTo(mean);
        mean4[..n].CopyTo(estimate.StateMean);
        Store(p0, p1, p2, p3, n, cov);
        cov.CopyTo(estimate.StateCovariance);
        state[StepsSlot] += 1.0;
        CheckUpdatedState(mean, cov, n, estimate, fragileVariance);
        return true;
    }

    /// <summary><see cref="KeepsFeedback"/> for the two-state kernel (n = 2, one observed row h) in scalars, given the
    /// diagonals of A P⁻ and P⁻ and the gain k: the bound 1 + ‖k‖∞ ‖h‖₁, then ‖A‖∞ (‖h‖₁ − |h_i| kept in
    /// <see cref="twoStateObservation"/>). Only for a filter whose model has the two-state kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool KeepsFeedbackTwoStates(double ap00, double ap11, double p00, double p11, double k0, double k1)
    {
        ReadOnlySpan<double> hrd = twoStateObservation;
        var updated = Math.Max(Math.Max(0.0, ap00), ap11);
        var predicted = Math.Max(Math.Max(0.0, p00), p11);
        return ((1.0 + (Math.Max(Math.Abs(k0), Math.Abs(k1)) * hrd[6])) * updated <= predicted)
            || (Math.Max(Math.Abs(1.0 - (k0 * hrd[0])) + (Math.Abs(k0) * hrd[4]), Math.Abs(1.0 - (k1 * hrd[1])) + (Math.Abs(k1) * hrd[5])) * updated <= predicted);
    }

    /// <summary>
    /// The two-state Joseph form P = A P⁻ + D K' (A = I − k h') from A P⁻ (entries <paramref name="ap00"/> …
    /// <paramref name="ap11"/>), with D = k r − (A P⁻) h when <paramref name="feedback"/> (<see cref="KeepsFeedback"/>)
    /// and D = k s − P⁻ h (<paramref name="u0"/>, <paramref name="u1"/>) otherwise; the off-diagonal entry is the mean of
    /// the two. Shared by this filter's two-state kernel and the adaptive filter's two-state and block kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (double P00, double P01, double P11) JosephTwoStates(
        bool feedback, double ap00, double ap01, double ap10, double ap11, double k0, double k1, double h0, double h1, double r, double s, double u0, double u1)
    {
        double d0, d1;
        if (feedback)
        {
            d0 = (k0 * r) - ((ap00 * h0) + (ap01 * h1));
            d1 = (k1 * r) - ((ap10 * h0) + (ap11 * h1));
        }
        else
        {
            d0 = (k0 * s) - u0;
            d1 = (k1 * s) - u1;
        }

        return (ap00 + (d0 * k0), 0.5 * ((ap01 + (d0 * k1)) + (ap10 + (d1 * k0))), ap11 + (d1 * k1));
    }

    /// <summary><see cref="KeepsFeedback"/> for the small kernel's padded rows (lanes beyond n zero) with one observed
    /// row, given the largest variances of A P⁻ and P⁻ (<see cref="LargestDiagonal"/>): K in <paramref name="k"/> and h
    /// in <paramref name="h"/>; lane i holds row i of A = I − k h'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool KeepsFeedbackOneRow(double updated, double predicted, Vector256<double> k, Vector256<double> h)
    {
        if ((1.0 + (LargestLane(Vector256.Abs(k)) * smallObservationNorm)) * updated <= predicted)
        {
            return true;
        }

        var rows = Vector256.Abs(Vector256.Create((ReadOnlySpan<double>)smallUnitDiagonal) - (k * h))
            + (Vector256.Abs(k) * Vector256.Create((ReadOnlySpan<double>)smallOffDiagonalLoading));
        return LargestLane(rows) * updated <= predicted;
    }

    /// <summary><see cref="KeepsFeedback"/> for the small kernel's padded rows (lanes beyond n zero) with two observed
    /// rows, given the largest variances of A P⁻ and P⁻ (<see cref="LargestDiagonal"/>): the columns of K in
    /// <paramref name="k0"/> and <paramref name="k1"/>, H in rows of 4 in <paramref name="h"/>. Lane i holds row i of K
    /// and of A = I − K H, summed in the order of the scalar form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool KeepsFeedbackTwoRows(double updated, double predicted, Vector256<double> k0, Vector256<double> k1, ReadOnlySpan<double> h)
    {
        if ((1.0 + (LargestLane(Vector256.Abs(k0) + Vector256.Abs(k1)) * smallObservationNorm)) * updated <= predicted)
        {
            return true;
        }

        var rows = Vector256.Abs(Vector256.Create(1.0, 0.0, 0.0, 0.0) - (k0 * h[0]) - (k1 * h[4]))
            + Vector256.Abs(Vector256.Create(0.0, 1.0, 0.0, 0.0) - (k0 * h[1]) - (k1 * h[5]));
        if (n > 2)
        {
            rows += Vector256.Abs(Vector256.Create(0.0, 0.0, 1.0, 0.0) - (k0 * h[2]) - (k1 * h[6]));
        }

        if (n > 3)
        {
            rows += Vector256.Abs(Vector256.Create(0.0, 0.0, 0.0, 1.0) - (k0 * h[3]) - (k1 * h[7]));
        }

        return LargestLane(rows) * updated <= predicted;
    }

    /// <summary>The largest of the (non-negative) lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double LargestLane(Vector256<double> x)
    {
        var half = Vector128.Max(x.GetLower(), x.GetUpper());
        return Math.Max(half.ToScalar(), half.GetElement(1));
    }

    /// <summary><see cref="LargestVariance"/> of a padded 4×4 matrix held as rows (padded entries zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double LargestDiagonal(Vector256<double> r0, Vector256<double> r1, Vector256<double> r2, Vector256<double> r3) =>
        Math.Max(Math.Max(Math.Max(Math.Max(0.0, r0.ToScalar()), r1.GetElement(1)), r2.GetElement(2)), r3.GetElement(3));

    /// <summary>(X + X') / 2 for a 4×4 matrix held as rows, through <paramref name="scratch"/> (16 doubles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double>, Vector256<double>, Vector256<double>, Vector256<double>) Symmetrize4(
        Vector256<double> r0, Vector256<double> r1, Vector256<double> r2, Vector256<double> r3, Span<double> scratch)
    {
        var x = scratch[..16];
        r0.CopyTo(x);
        r1.CopyTo(x[4..]);
        r2.CopyTo(x[8..]);
        r3.CopyTo(x[12..]);
        var t0 = Vector256.Create(x[0], x[4], x[8], x[12]);
        var t1 = Vector256.Create(x[1], x[5], x[9], x[13]);
        var t2 = Vector256.Create(x[2], x[6], x[10], x[14]);
        var t3 = Vector256.Create(x[3], x[7], x[11], x[15]);
        return ((r0 + t0) * 0.5, (r1 + t1) * 0.5, (r2 + t2) * 0.5, (r3 + t3) * 0.5);
    }

    /// <summary>Stores the leading n×n block of a 4×4 matrix held as rows into <paramref name="target"/> (n×n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<double> r0, Vector256<double> r1, Vector256<double> r2, Vector256<double> r3, int n, Span<double> target)
    {
        if (n == 4)
        {
            r0.CopyTo(target);
            r1.CopyTo(target[4..]);
            r2.CopyTo(target[8..]);
            r3.CopyTo(target[12..]);
            return;
        }

        Span<double> row = stackalloc double[4];
        r0.CopyTo(row);
        row[..n].CopyTo(target);
        r1.CopyTo(row);
        row[..n].CopyTo(target[n..]);
        if (n > 2)
        {
            r2.CopyTo(row);
            row[..n].CopyTo(target[(2 * n)..]);
        }
    }

    private bool GeneralStep(Span<double> state, in Observation observation, Estimate estimate, Span<double> record, ReadOnlySpan<double> observationNoise, ReadOnlySpan<double> transitionNoise)
    {
        var r = observationNoise.IsEmpty ? model.ObservationNoise : observationNoise;
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var first = state[StepsSlot] == 0.0;
        var rank = (int)state[DiffuseSlot];
        var diffuse = rank > 0;
        var factor = diffuse ? state.Slice(infSlot, nn) : default;
        var mean = state.Slice(MeanSlot, n);
        var cov = state.Slice(covSlot, nn);

        var pm = arena.Take(n);
        var pc = arena.Take(nn);
        var hasRecord = !record.IsEmpty;
        var recPredMean = hasRecord ? record.Slice(n + nn, n) : default;
        var recPredCov = hasRecord ? record.Slice(n + nn + n, nn) : default;
        var recCross = hasRecord ? record.Slice(n + nn + n + nn, nn) : default;

        // Models with a diffuse start keep the diffuse parts apart in their records (DiffuseSmoothing): the κ part of
        // the cross-covariance is left to the backward step unless the C slot must hold all of it.
        var diffuseRecord = hasRecord && model.IsDiffuse;
        var wholeCross = first;
        if (first)
        {
            mean.CopyTo(pm);
            cov.CopyTo(pc);
            if (hasRecord)
            {
                recCross.Clear();
            }
        }
        else
        {
            ReadOnlySpan<double> f, q, c;
            if (fixedTransition is not null)
            {
                f = fixedTransition;
                q = fixedNoise;
                c = fixedOffset;
            }
            else
            {
                var fs = arena.Take(nn);
                var qs = arena.Take(nn);
                var cs = arena.Take(n);
                model.Dynamics.Discretize(observation.TimeGap, fs, qs, cs);
                f = fs;
                q = qs;
                c = cs;
            }

            if (!transitionNoise.IsEmpty)
            {
                q = transitionNoise;
            }

            if (diffuse && state[readingsSlot] == diffuseBudget)
            {
                // The previous reading spent the budget: the fallback prior joins P before this prediction, so that
                // the prediction, this reading's update and the smoothing records all use it.
                rank = FallBack(state, cov, factor, rank, f, estimate);
                diffuse = rank > 0;
                wholeCross = true;
            }

            Dense.MultiplyVector(f, n, n, mean, pm);
            for (var i = 0; i < n; i++)
            {
                pm[i] += c[i];
            }

            if (hasControl && !observation.Control.IsEmpty)
            {
                AddControl(observation.Control, pm);
            }

            var fp = arena.Take(nn);
            Dense.Multiply(f, n, n, cov, n, fp);
            Dense.MultiplyTransposed(fp, n, n, f, n, pc);
            for (var i = 0; i < nn; i++)
            {
                pc[i] += q[i];
            }

            Dense.Symmetrize(pc, n);
            if (LostInRounding(LargestVariance(pc, n), LargestVariance(cov, n), RestartFloor))
            {
                arena.Release(mark);
                return false;
            }

            if (RepairIfIndefinite(pc, n, AlwaysTest))
            {
                estimate.Flags |= EstimateFlags.Repaired;
            }

            if (hasRecord)
            {
                // Cov(h_{t-1}, h_t | y_{1:t-1}) = P_{t-1|t-1} F'.
                Dense.MultiplyTransposed(cov, n, n, f, n, recCross);
            }

            if (diffuse)
            {
                // A ← F A; the diffuse part of the cross-covariance is P_∞ F' = A (F A)'.
                var fa = arena.Take(nn);
                Dense.Multiply(f, n, n, factor, n, fa);
                if (hasRecord && (!diffuseRecord || wholeCross))
                {
                    Dense.MultiplyTransposed(factor, n, n, fa, n, fp);
                    for (var i = 0; i < nn; i++)
                    {
                        recCross[i] += DiffuseSmoothing.StandInScale * fp[i];
                    }
                }

                fa.CopyTo(factor);
                if (rank == 0 || DiffuseInitialization.Trace(factor, n) == 0.0)
                {
                    // Every direction determined, or the dynamics have mapped the diffuse part to nothing (a singular
                    // F): the prior is proper again.
                    rank = 0;
                    diffuse = false;
                    state[DiffuseSlot] = 0.0;
                }
            }
        }

        // Predicted state and observation moments.
        pm.CopyTo(estimate.PredictedMean);
        pc.CopyTo(estimate.PredictedCovariance);
        var h = model.Observation;
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        Dense.MultiplyVector(h, m, n, pm, om);
        var d = model.ObservationOffset;
        for (var i = 0; i < m; i++)
        {
            om[i] += d[i];
        }

        var hp = arena.Take(m * n);
        Dense.Multiply(h, m, n, pc, n, hp);
        Dense.MultiplyTransposed(hp, m, n, h, m, oc);
        Dense.Symmetrize(oc, m);
        AddObservationNoise(oc, r, m, AlwaysTest, estimate);
        var scratch = diffuse ? arena.Take((m * n) + Math.Max(m, nn)) : default;
        if (diffuse)
        {
            if (WriteDiffusePart(state, estimate.PredictedCovariance, oc, scratch))
            {
                estimate.Flags |= EstimateFlags.Diffuse;
            }
        }

        if (hasRecord)
        {
            pm.CopyTo(recPredMean);
            pc.CopyTo(recPredCov);
            if (diffuseRecord)
            {
                var predictedFactor = record.Slice(DiffuseSmoothing.PredictedFactorOffset(n), nn);
                if (diffuse)
                {
                    factor.CopyTo(predictedFactor);
                }
                else
                {
                    predictedFactor.Clear();
                }

                var meta = record.Slice(DiffuseSmoothing.MetaOffset(n), 4);
                meta[1] = diffuse ? rank : 0.0;
                meta[3] = wholeCross ? 1.0 : 0.0;
            }
            else if (diffuse)
            {
                DiffuseInitialization.AddOuter(recPredCov, factor, n, DiffuseSmoothing.StandInScale);
            }
        }

        // Observed components.
        Span<int> observed = stackalloc int[m];
        var k = 0;
        var y = observation.Values;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[k++] = i;
            }
        }

        observed = observed[..k];
        pm.CopyTo(mean);
        pc.CopyTo(cov);
        if (k > 0)
        {
            estimate.ObservedCount = k;
            if (diffuse)
            {
                DiffuseStep(state, factor, rank, y, observed, estimate, r);
            }
            else
            {
                StandardUpdate(mean, cov, hp, y, observed, estimate, r);
            }
        }

        CheckUpdatedState(mean, cov, n, estimate, fragileVariance, testAlways: true);
        mean.CopyTo(estimate.StateMean);
        cov.CopyTo(estimate.StateCovariance);
        var stillDiffuse = state[DiffuseSlot] != 0.0;
        if (stillDiffuse)
        {
            WriteDiffusePart(state, estimate.StateCovariance, default, scratch);
        }

        if (hasRecord)
        {
            mean.CopyTo(record[..n]);
            var recFiltCov = record.Slice(n, nn);
            cov.CopyTo(recFiltCov);
            if (diffuseRecord)
            {
                var filteredFactor = record.Slice(DiffuseSmoothing.FilteredFactorOffset(n), nn);
                if (stillDiffuse)
                {
                    state.Slice(infSlot, nn).CopyTo(filteredFactor);
                }
                else
                {
                    filteredFactor.Clear();
                }

                var meta = record.Slice(DiffuseSmoothing.MetaOffset(n), 4);
                meta[0] = stillDiffuse ? state[DiffuseSlot] : 0.0;
                meta[2] = state[readingsSlot] <= diffuseBudget ? 1.0 : 0.0;
            }
            else if (stillDiffuse)
            {
                DiffuseInitialization.AddOuter(recFiltCov, factor, n, DiffuseSmoothing.StandInScale);
            }
        }

        state[StepsSlot] += 1.0;
        arena.Release(mark);
        return true;
    }

    /// <summary>
    /// Writes the diffuse part P_∞ = A A' into a reported state covariance and (when given) the predictive covariance
    /// of y: as ±∞ during the diffuse period (flagged <see cref="EstimateFlags.Diffuse"/>), and once its reading budget
    /// is spent as the stated finite variance c A A' and c (H A)(H A)' (<see cref="DiffuseInitialization"/>).
    /// Returns true when the diffuse part was written as infinite.
    /// </summary>
    private bool WriteDiffusePart(ReadOnlySpan<double> state, Span<double> stateCovariance, Span<double> observationCovariance, Span<double> scratch)
    {
        var factor = state.Slice(infSlot, n * n);
        if (state[readingsSlot] > diffuseBudget)
        {
            var c = StatedVariance(state);
            DiffuseInitialization.AddOuter(stateCovariance, factor, n, c);
            if (!observationCovariance.IsEmpty)
            {
                DiffuseInitialization.AddObservationOuter(observationCovariance, model.Observation, m, n, factor, c, scratch);
            }

            return false;
        }

        DiffuseInitialization.MarkState(stateCovariance, factor, n, scratch);
        if (!observationCovariance.IsEmpty)
        {
            DiffuseInitialization.MarkObservation(observationCovariance, model.Observation, m, n, factor, scratch);
        }

        return true;
    }

    /// <summary>The finite variance c of the prior given to undetermined directions at the end of the reading budget.</summary>
    private double StatedVariance(ReadOnlySpan<double> state) =>
        DiffuseInitialization.FallbackVariance(DiffuseInitialization.DataScale(state[scaleSlot], largestNoise));

    /// <summary>The update of a reading during the diffuse period; counts the readings that spend its budget.</summary>
    private void DiffuseStep(Span<double> state, Span<double> factor, int rank, ReadOnlySpan<double> y, ReadOnlySpan<int> observed, Estimate estimate, ReadOnlySpan<double> r)
    {
        var mean = state.Slice(MeanSlot, n);
        var cov = state.Slice(covSlot, n * n);
        var scale = state[scaleSlot];
        rank = DiffuseInitialization.Update(model, r, diagonalObservationNoise, mean, cov, factor, rank, y, observed, estimate, ref scale, out var assimilated);
        state[scaleSlot] = scale;
        if (rank > 0 && assimilated && state[readingsSlot] < diffuseBudget)
        {
            state[readingsSlot] += 1.0;
        }

        state[DiffuseSlot] = rank;
    }

    /// <summary>
    /// The step after the reading that spent the budget with directions still undetermined
    /// (<see cref="EstimateFlags.DiffuseFallback"/>): before predicting, the directions the observations can see get
    /// the finite prior c A A' in P (so this step's prediction, update and smoothing record use it, and every later
    /// reading refines them); those no reading can see stay factored, reported with the same stated variance
    /// (<see cref="DiffuseInitialization.MergeObservable"/>). Returns the rank left.
    /// </summary>
    private int FallBack(Span<double> state, Span<double> covariance, Span<double> factor, int rank, ReadOnlySpan<double> transition, Estimate estimate)
    {
        rank = DiffuseInitialization.MergeObservable(covariance, factor, n, rank, transition, model.Observation, m, StatedVariance(state));
        state[readingsSlot] = diffuseBudget + 1;
        state[DiffuseSlot] = rank;
        estimate.Flags |= EstimateFlags.DiffuseFallback;
        return rank;
    }

    /// <summary>The proper-prior update over the observed rows, with <paramref name="u"/> = H P⁻ (m×n) and the
    /// innovation covariance in the estimate (Joseph form by <see cref="JosephCovariance"/>, as the fast kernels).</summary>
    private void StandardUpdate(Span<double> mean, Span<double> cov, ReadOnlySpan<double> u, ReadOnlySpan<double> y, ReadOnlySpan<int> observed, Estimate estimate, ReadOnlySpan<double> r)
    {
        var k = observed.Length;
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var oc = estimate.ObservationCovariance;
        var om = estimate.ObservationMean;

        var s = arena.Take(k * k);
        var v = arena.Take(k);
        var kt = arena.Take(k * n);
        for (var a = 0; a < k; a++)
        {
            var ia = observed[a];
            v[a] = y[ia] - om[ia];
            u.Slice(ia * n, n).CopyTo(kt.Slice(a * n, n));
            for (var b = 0; b < k; b++)
            {
                s[(a * k) + b] = oc[(ia * m) + observed[b]];
            }
        }

        if (!Dense.Cholesky(s, k))
        {
            estimate.Flags |= EstimateFlags.ObservationSkipped;
            estimate.ObservedCount = 0;
            arena.Release(mark);
            return;
        }

        var z = arena.Take(k);
        Nonlinear.GaussianUpdate.Statistics(s, k, v, z, estimate);
        if (!double.IsFinite(estimate.NormalizedInnovationSquared))
        {
            SkipReading(estimate, k);
            arena.Release(mark);
            return;
        }

        // Kt = S⁻¹ H_o P⁻ (k×n), i.e. K = Kt'.
        Dense.CholeskySolve(s, k, kt, n);

        var ap = arena.Take(nn);
        ApplyGain(mean, cov, kt, u, observed, v, n, mean, ap);

        JosephCovariance(cov, ap, model.Observation, u, observed, kt, r, oc, n, m, arena.Take(n * k), cov);
        arena.Release(mark);
    }

    /// <summary>
    /// A reading the update cannot use: the innovation covariance is not positive definite (<paramref name="observed"/>
    /// = 0: nothing is scored) or the squared Mahalanobis distance overflows (<paramref name="observed"/> rows scored
    /// with log-likelihood −∞ and NIS +∞, so that anomaly rules fire). Either way the state stays the prediction.
    /// </summary>
    internal static void SkipReading(Estimate estimate, int observed)
    {
        estimate.Flags |= EstimateFlags.ObservationSkipped;
        estimate.ObservedCount = observed;
        estimate.LogLikelihood = observed > 0 ? double.NegativeInfinity : double.NaN;
        estimate.NormalizedInnovationSquared = observed > 0 ? double.PositiveInfinity : double.NaN;
    }

    private void Guard(Span<double> state, Estimate estimate)
    {
        if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            Initialize(state, 0);
            estimate.LogLikelihood = double.NaN;
            estimate.NormalizedInnovationSquared = double.NaN;
            ReadState(state, estimate.StateMean, estimate.StateCovariance);
        }
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        ForecastWithNoise(state, stepGap, forecast, default, default);
    }

    /// <summary>Forecasts with a stream's own noise: R (m×m) and Q for one forecast step (n×n); an empty span keeps the
    /// model's (see <see cref="StepWithNoise"/>).</summary>
    internal void ForecastWithNoise(ReadOnlySpan<double> state, double stepGap, Forecast forecast, ReadOnlySpan<double> observationNoise, ReadOnlySpan<double> transitionNoise)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        var r = observationNoise.IsEmpty ? model.ObservationNoise : observationNoise;
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var a = arena.Take(n);
        var p = arena.Take(nn);
        var diffuse = state[DiffuseSlot] != 0.0;
        var stated = diffuse && state[readingsSlot] > diffuseBudget;
        var factor = diffuse ? arena.Take(nn) : default;
        state.Slice(MeanSlot, n).CopyTo(a);
        state.Slice(covSlot, nn).CopyTo(p);
        if (diffuse)
        {
            state.Slice(infSlot, nn).CopyTo(factor);
        }

        var f = arena.Take(nn);
        var q = arena.Take(nn);
        var c = arena.Take(n);
        model.Dynamics.Discretize(stepGap, f, q, c);
        if (!transitionNoise.IsEmpty)
        {
            transitionNoise.CopyTo(q);
        }

        var tmp = arena.Take(nn);
        var an = arena.Take(n);
        var hp = arena.Take(m * n);
        var scratch = diffuse ? arena.Take((m * n) + Math.Max(m, nn)) : default;
        var h = model.Observation;
        for (var k = 1; k <= forecast.MaxHorizon; k++)
        {
            Dense.MultiplyVector(f, n, n, a, an);
            for (var i = 0; i < n; i++)
            {
                a[i] = an[i] + c[i];
            }

            Dense.Multiply(f, n, n, p, n, tmp);
            Dense.MultiplyTransposed(tmp, n, n, f, n, p);
            for (var i = 0; i < nn; i++)
            {
                p[i] += q[i];
            }

            Dense.Symmetrize(p, n);
            a.CopyTo(forecast.StateMeanAt(k));
            var sc = forecast.StateCovarianceAt(k);
            p.CopyTo(sc);
            var om = forecast.ObservationMeanAt(k);
            Dense.MultiplyVector(h, m, n, a, om);
            for (var i = 0; i < m; i++)
            {
                om[i] += model.ObservationOffset[i];
            }

            var oc = forecast.ObservationCovarianceAt(k);
            Dense.Multiply(h, m, n, p, n, hp);
            Dense.MultiplyTransposed(hp, m, n, h, m, oc);
            for (var i = 0; i < m * m; i++)
            {
                oc[i] += r[i];
            }

            if (stated)
            {
                var statedVariance = StatedVariance(state);
                DiffuseInitialization.Predict(f, n, factor, tmp);
                DiffuseInitialization.AddOuter(sc, factor, n, statedVariance);
                DiffuseInitialization.AddObservationOuter(oc, h, m, n, factor, statedVariance, scratch);
            }
            else if (diffuse)
            {
                DiffuseInitialization.Predict(f, n, factor, tmp);
                DiffuseInitialization.MarkState(sc, factor, n, scratch);
                DiffuseInitialization.MarkObservation(oc, h, m, n, factor, scratch);
            }
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        state.Slice(MeanSlot, n).CopyTo(mean);
        state.Slice(covSlot, n * n).CopyTo(covariance);
        if (state[DiffuseSlot] != 0.0)
        {
            var arena = ScratchArena.Current;
            var mark = arena.Mark;
            WriteDiffusePart(state, covariance, default, arena.Take((m * n) + Math.Max(m, n * n)));
            arena.Release(mark);
        }
    }

    /// <summary>The former record (<see cref="GaussianBackward.RecordLength"/> numbers) of a model with a diffuse start,
    /// whose records are longer now (<see cref="DiffuseSmoothing"/>); 0 for other models, whose records did not change.</summary>
    int IFormerRecords.FormerRecordLength => model.IsDiffuse ? GaussianBackward.RecordLength(n) : 0;

    /// <inheritdoc />
    void IFormerRecords.UpgradeRecord(ReadOnlySpan<double> former, ReadOnlySpan<double> state, bool newest, Span<double> record)
    {
        // The next step's cross-covariance needs the κ part A_t (F A_t)' of the newest record (DiffuseSmoothing.StandIn):
        // A_t is the factor the saved state still holds, as this build's record would.
        var diffuse = newest && state.Length >= infSlot + (n * n) && state[DiffuseSlot] != 0.0;
        DiffuseSmoothing.UpgradeFormer(n, former, diffuse ? state.Slice(infSlot, n * n) : default, record);
    }

    /// <inheritdoc />
    bool IFormerRecords.IsFormerRecord(ReadOnlySpan<double> record) => model.IsDiffuse && DiffuseSmoothing.IsFormer(n, record);

    /// <inheritdoc />
    void IFormerRecords.StartBackwardAsFormer(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        if (model.IsDiffuse)
        {
            DiffuseSmoothing.StartAsFormer(n, record, message);
        }
        else
        {
            StartBackward(record, message);
        }
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        if (model.IsDiffuse)
        {
            DiffuseSmoothing.Start(n, record, message);
        }
        else
        {
            record[..(n + (n * n))].CopyTo(message);
        }
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        Backward(record, nextRecord, message, default);
    }

    /// <summary>The backward step that also returns the smoother gain transposed, G' (n×n), when
    /// <paramref name="gainTransposed"/> is not empty (see <see cref="GaussianBackward"/>); exact inside the diffuse
    /// period (<see cref="DiffuseSmoothing"/>).</summary>
    internal void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message, Span<double> gainTransposed)
    {
        if (model.IsDiffuse)
        {
            DiffuseSmoothing.Step(n, record, nextRecord, message, gainTransposed);
        }
        else
        {
            GaussianBackward.Step(n, record, nextRecord, message, gainTransposed);
        }
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        if (model.IsDiffuse)
        {
            DiffuseSmoothing.Read(n, message, mean, covariance);
        }
        else
        {
            message[..n].CopyTo(mean);
            message.Slice(n, n * n).CopyTo(covariance);
        }
    }

    /// <summary>
    /// Whether the 2×2 covariance [p00 p01; p01 p11] is not positive semi-definite, up to a relative rounding allowance
    /// on the determinant (a negative or NaN variance counts); the two-state kernels' test before a repair.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool OutsideTwoStateCone(double p00, double p01, double p11) =>
        !(p00 >= 0.0) || !(p11 >= 0.0) || (p01 * p01) > (p00 * p11 * (1.0 + 1e-9)) + 1e-300;

    /// <summary>
    /// The close of an update that left the filtered moments in the state's <paramref name="mean"/> and
    /// <paramref name="cov"/>: both into the estimate, one more step counted, then <see cref="CheckUpdatedState"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CompleteStep(Span<double> state, ReadOnlySpan<double> mean, Span<double> cov, int n, Estimate estimate, double fragile)
    {
        mean.CopyTo(estimate.StateMean);
        cov.CopyTo(estimate.StateCovariance);
        state[StepsSlot] += 1.0;
        CheckUpdatedState(mean, cov, n, estimate, fragile);
    }

    /// <summary>
    /// Guard rails after an update: a non-finite state is flagged for re-initialisation; a covariance that is no longer
    /// positive semi-definite (rounding) is repaired in place and the estimate's copy refreshed. Covariances are tested
    /// above <paramref name="fragile"/> (or always, <paramref name="testAlways"/>, the general kernel).
    /// </summary>
    internal static void CheckUpdatedState(ReadOnlySpan<double> mean, Span<double> cov, int n, Estimate estimate, double fragile, bool testAlways = false)
    {
        // An update from a fragile prediction (a huge gap, a vague prior) cancels large variances down to ordinary
        // ones; the rounding left behind is of the prediction's size, so the result is tested whatever its own size,
        // and at a tolerance near rounding of the result (see FragileJitter).
        var fromFragile = LargestVariance(estimate.PredictedCovariance, n) > fragile;
        if (!Dense.AllFinite(mean) || !Dense.AllFinite(cov))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
        else if (RepairIfIndefinite(cov, n, fromFragile || testAlways ? AlwaysTest : fragile, fromFragile))
        {
            cov.CopyTo(estimate.StateCovariance);
            estimate.Flags |= EstimateFlags.Repaired;
        }
    }

    /// <summary>
    /// Repairs a finite covariance that is not positive semi-definite (eigenvalues clipped); true when it did. The
    /// cheap checks (diagonal, 2×2 minors) are exact for two states; beyond that the Cholesky test of
    /// <see cref="Indefinite"/> runs when the largest variance exceeds <paramref name="testAbove"/> or the variances
    /// span more than 8 orders of magnitude: the covariances where rounding produces clearly negative eigenvalues
    /// (after a vague prior or a huge gap). The general kernel always tests (<see cref="AlwaysTest"/>).
    /// </summary>
    internal static bool RepairIfIndefinite(Span<double> cov, int n, double testAbove, bool afterFragile = false)
    {
        if (Dense.LooksPositiveSemiDefinite(cov, n) && (n <= 2 || !Indefinite(cov, n, testAbove, afterFragile)))
        {
            return false;
        }

        Dense.RepairCovariance(cov, n);
        return true;
    }

    /// <summary>
    /// True when the Cholesky factorisation of P + δ I with δ = <see cref="TestJitter"/> · max P_ii fails, i.e. P has
    /// an eigenvalue below −δ; only tried when the largest variance exceeds <paramref name="testAbove"/> or the
    /// variances span more than 8 orders of magnitude. <paramref name="afterFragile"/> (the update of a fragile
    /// prediction) takes δ = <see cref="FragileJitter"/> · max P_ii when the variances span at most 8 orders.
    /// </summary>
    private static bool Indefinite(ReadOnlySpan<double> cov, int n, double testAbove, bool afterFragile)
    {
        double largest = 0.0, smallest = double.PositiveInfinity;
        for (var i = 0; i < n; i++)
        {
            var d = cov[(i * n) + i];
            largest = Math.Max(largest, d);
            smallest = Math.Min(smallest, d);
        }

        if (!(largest > 0.0) || (!(largest > testAbove) && !(largest > 1e8 * smallest)))
        {
            return false;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var l = arena.TakeUninitialized(n * n);
        cov[..(n * n)].CopyTo(l);
        var delta = (afterFragile && largest <= 1e8 * smallest ? FragileJitter : TestJitter) * largest;
        for (var i = 0; i < n; i++)
        {
            l[(i * n) + i] += delta;
        }

        var indefinite = !Dense.Cholesky(l, n);
        arena.Release(mark);
        return indefinite;
    }

    /// <summary>
    /// y = o + A x and AP = A P for a row-major A of <paramref name="rows"/> × <paramref name="n"/> and an n × n P,
    /// skipping the zero entries of A (transition and observation matrices of structural models are mostly zeros); an
    /// empty <paramref name="o"/> adds nothing. Also the adaptive filter's prediction and tangent kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ApplySparse(
        ReadOnlySpan<double> a, int rows, int n, ReadOnlySpan<double> x, ReadOnlySpan<double> p, ReadOnlySpan<double> o, Span<double> y, Span<double> ap)
    {
        ap[..(rows * n)].Clear();
        for (var i = 0; i < rows; i++)
        {
            var acc = o.IsEmpty ? 0.0 : o[i];
            var row = ap.Slice(i * n, n);
            for (var k = 0; k < n; k++)
            {
                var aik = a[(i * n) + k];
                if (aik == 0.0)
                {
                    continue;
                }

                acc += aik * x[k];
                var prow = p.Slice(k * n, n);
                for (var j = 0; j < n; j++)
                {
                    row[j] += aik * prow[j];
                }
            }

            y[i] = acc;
        }
    }
}
