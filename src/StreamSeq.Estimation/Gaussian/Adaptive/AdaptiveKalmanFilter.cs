using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>
/// The Kalman filter of a <see cref="LinearGaussianModel"/> whose streams each learn their own noise online: the
/// transition-noise rates θ_j (Q(Δt) = Q_fixed(Δt) + Σ_j θ_j B_j(Δt)) and the observation variances r_i, stored in the
/// stream's state.
/// </summary>
/// <remarks>
/// <para><b>Recursive maximum likelihood</b> (all rates, and observation noise by default). With φ = log θ (or log r),
/// the tangent filter carries ∂a/∂φ_j and ∂P/∂φ_j through the Kalman recursions: ∂a⁻ = F ∂a,
/// ∂P⁻ = F ∂P F' + ∂Q, ∂S = H ∂P⁻ H' + ∂R, ∂v = −H ∂a⁻, ∂a = ∂a⁻ + ∂K v + K ∂v and
/// ∂P = (I − K H) ∂P⁻ (I − K H)' + K ∂R K' (the Joseph form is stationary in K, so ∂K drops out of ∂P). The score of
/// ℓ_t = log p(y_t | y_{1:t-1}) is g_j = −½ tr(S⁻¹ ∂_j S) + ½ v' S⁻¹ ∂_j S S⁻¹ v − v' S⁻¹ ∂_j v and its expected
/// information i_jk = ½ tr(S⁻¹ ∂_j S S⁻¹ ∂_k S) + ∂_j v' S⁻¹ ∂_k v. The discounted information
/// I_t = λ I_{t-1} + i_t gives the Gauss–Newton step φ ← φ + (I_t + εI)⁻¹ g_t (ε = 10⁻³ tr(I_t)/p), each component
/// clipped to ±<see cref="AdaptationSettings.MaxStep"/>; sd(φ_j) = √((I_t + εI)⁻¹)_jj.</para>
/// <para><b>Variational Bayes</b> (observation noise, optional; Särkkä and Nummenmaa 2009): r_i ~ IG(α_i, β_i);
/// α⁻ = λα, β⁻ = λβ; α = α⁻ + ½ and, for each of N iterations, the Kalman update with r_i = β_i/α_i followed by
/// β_i = β⁻_i + ½ (y − H a)_i² + ½ (H P H')_ii.</para>
/// <para><b>Predictive.</b> log p(y_t | y_{1:t-1}), the NIS and the observation moments use the values learned up to
/// t − 1 (β/α for variational Bayes). <b>Gate.</b> A component with squared standardised innovation above c² (tail
/// probability <see cref="AdaptationSettings.Gate"/>) stops all learning from that reading and, unless the
/// component's previous reading was also beyond the gate, is left out of the update
/// (<see cref="EstimateFlags.OutlierRejected"/>). <b>Diffuse start.</b> While part of the prior is diffuse the stream
/// steps with its current values and learns nothing; the tangents start at zero once the state is determined.
/// Restarts after a huge gap or non-finite state keep the learned values.</para>
/// </remarks>
public sealed class AdaptiveKalmanFilter : IEstimator, IBackwardStep, IParameterLearner, IFormerRecords, IRestartRecords
{
    private const double Log2Pi = 1.8378770664093453;

    /// <summary>Most learned values the vector kernel for 3–4 states takes.</summary>
    private const int SmallMaxParameters = 6;

    /// <summary>Most learned values the two-state kernel takes.</summary>
    private const int TwoStateMaxParameters = 4;

    /// <summary>Largest state and observation dimension (and number of learned parameters) of the stack-only kernel.</summary>
    private const int FastMaxDimension = 8;

    /// <summary>Work buffers up to this many doubles live on the stack.</summary>
    private const int StackWork = 2048;

    private readonly KalmanFilter inner;
    private readonly LinearNoiseParameters noise;
    private readonly AdaptationSettings settings;
    private readonly int n;
    private readonly int m;
    private readonly int p;
    private readonly int rates;
    private readonly int vb;
    private readonly int kfLength;
    private readonly int valueSlot;
    private readonly int alphaSlot;
    private readonly int betaSlot;
    private readonly int memorySlot;
    private readonly int daSlot;
    private readonly int dpSlot;
    private readonly int infoSlot;
    private readonly int sdSlot;
    private readonly double lambda;
    private readonly double gateSquared;
    private readonly double maxStep;
    private readonly int discretizationLength;
    private readonly int unpaddedLength;
    private readonly bool small;
    private readonly double[]? timeInvariant;
    private readonly bool hasControl;
    private readonly int workLength;
    private readonly bool scalar;
    private readonly bool fast;
    private readonly bool twoState;
    private readonly IndependentBlocks? blocks;
    private readonly int scalarObservationParameter;
    private readonly double scalarObservation;
    private readonly double scalarOffset;

    /// <summary>Creates the filter.</summary>
    /// <param name="noise">The model and which noise parameters are learned.</param>
    /// <param name="settings">Forgetting, gate and method settings.</param>
    internal AdaptiveKalmanFilter(LinearNoiseParameters noise, AdaptationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(settings);
        this.noise = noise;
        this.settings = settings;
        inner = new KalmanFilter(noise.Model);
        n = noise.StateDimension;
        m = noise.ObservationDimension;
        p = noise.RecursiveCount;
        rates = noise.RateCount;
        vb = noise.VariationalCount;
        kfLength = inner.Info.StateLength;
        valueSlot = 1;
        alphaSlot = valueSlot + p;
        betaSlot = alphaSlot + vb;
        memorySlot = betaSlot + vb;
        daSlot = memorySlot + m;
        dpSlot = daSlot + (p * n);
        infoSlot = dpSlot + (p * n * n);
        sdSlot = infoSlot + (p * p);
        lambda = settings.Forgetting;
        gateSquared = settings.GateSquared;
        maxStep = settings.MaxStep;
        hasControl = noise.Model.ControlDimension > 0;
        unpaddedLength = ((2 + rates) * n * n) + n;
        small = n is >= 3 and <= 4 && m <= 2 && vb == 0 && !hasControl && p <= SmallMaxParameters && Vector256.IsHardwareAccelerated;
        discretizationLength = unpaddedLength + (small ? (3 * 16) + 4 + (16 * rates) : 0);
        if (noise.FixedDynamics.IsTimeInvariant && noise.Bases.All(b => b.IsTimeInvariant))
        {
            timeInvariant = new double[discretizationLength];
            Discretize(1.0, timeInvariant);
        }

        scalar = n == 1 && m == 1 && vb == 0 && !hasControl;
        twoState = n == 2 && m == 1 && vb == 0 && !hasControl && p <= TwoStateMaxParameters;
        blocks = vb == 0 && !hasControl && p <= FastMaxDimension ? IndependentBlocks.TryFind(noise) : null;
        fast = n <= FastMaxDimension && m <= FastMaxDimension && vb == 0 && p <= FastMaxDimension;
        scalarObservationParameter = noise.Modes[0] == LinearNoiseParameters.ObservationMode.RecursiveMaximumLikelihood ? noise.ObservationSlot[0] : -1;
        scalarObservation = noise.Model.Observation[0];
        scalarOffset = noise.Model.ObservationOffset[0];
        var nn = n * n;

        // Adapt, then Update, then Tangents (k ≤ m observed components).
        workLength = (2 * nn) + (p * (n + nn)) + (m * n) + (2 * m * m) + (3 * m)
            + (4 * m * m) + (3 * m * n) + m + nn
            + (m * m) + (2 * m) + (p * ((m * n) + (2 * m * m) + (2 * m) + 1)) + (p * p) + nn + (n * m);
        var i = inner.Info;
        Info = new EstimatorInfo
        {
            Family = i.Family,
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = i.ControlDimension,
            StateLength = kfLength + sdSlot + p,
            BackwardRecordLength = i.BackwardRecordLength,
            SmoothingMessageLength = i.SmoothingMessageLength,
            UsesTimeGap = i.UsesTimeGap,
            Parameters = noise.Parameters,
        };
    }

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <summary>The model with the spec's values (each stream's starting point).</summary>
    public LinearGaussianModel Model => noise.Model;

    /// <summary>The learning settings.</summary>
    public AdaptationSettings Settings => settings;

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        inner.Initialize(state[..kfLength], seed);
        var ad = state[kfLength..Info.StateLength];
        ad.Clear();
        noise.Start(ad.Slice(valueSlot, p), ad.Slice(alphaSlot, vb), ad.Slice(betaSlot, vb), settings.PriorWeight);

        // The prior of recursive ML: the spec's values weigh as much as w readings that each informed log θ as fully as
        // a reading informs the log of its own variance (Fisher information ½), i.e. a prior sd of √(2/w) on log θ,
        // discounted like the data.
        var information = ad.Slice(infoSlot, p * p);
        for (var j = 0; j < p; j++)
        {
            information[(j * p) + j] = 0.5 * settings.PriorWeight;
        }

        Span<double> none = stackalloc double[p];
        DiscountedInformation.Step(information, p, none, ad.Slice(sdSlot, p));
    }

    /// <inheritdoc />
    public void StartFrom(Span<double> state, ReadOnlySpan<double> values)
    {
        SpanChecks.State(state, Info);
        SpanChecks.Learned(nameof(values), values, Info);
        var ad = state[kfLength..Info.StateLength];
        noise.StartFrom(values, ad.Slice(valueSlot, p), ad.Slice(alphaSlot, vb), ad.Slice(betaSlot, vb));
    }

    /// <inheritdoc />
    public void ReadParameters(ReadOnlySpan<double> state, Span<double> values, Span<double> deviations)
    {
        SpanChecks.Parameters(state, values, deviations, Info);
        WriteParameters(state[kfLength..Info.StateLength], values, deviations);
    }

    /// <inheritdoc />
    public long ReadingsLearned(ReadOnlySpan<double> state)
    {
        SpanChecks.State(state, Info);
        return (long)state[kfLength];
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        var kf = state[..kfLength];
        var ad = state[kfLength..Info.StateLength];
        estimate.Reset();
        var first = kf[KalmanFilter.StepCountOffset] == 0.0;
        var stepped = !KalmanFilter.IsStillDiffuse(kf)
            && (!backwardRecord.IsEmpty ? Adapt(kf, ad, observation, estimate, backwardRecord)
                : scalar ? ScalarStep(kf, ad, observation, estimate)
                : twoState ? TwoStateStep(kf, ad, observation, estimate)
                : blocks is not null ? BlockStep(kf, ad, observation, estimate) ?? FastStep(kf, ad, observation, estimate)
                : small ? SmallStep(kf, ad, observation, estimate) ?? FastStep(kf, ad, observation, estimate)
                : fast ? FastStep(kf, ad, observation, estimate)
                : Adapt(kf, ad, observation, estimate, backwardRecord));
        if (!stepped)
        {
            // The diffuse start (or a restart after a gap that lost the state to rounding): the general kernel with
            // this stream's values, learning nothing. A restart keeps what was learned; the tangents start again.
            var restart = !KalmanFilter.IsStillDiffuse(kf);
            if (restart)
            {
                inner.Initialize(kf, 0);
                ClearTangents(ad);
            }

            StepWithCurrentNoise(kf, ad, observation, estimate, backwardRecord);
            if (restart)
            {
                estimate.Flags |= EstimateFlags.Reinitialized;
            }
        }
        else if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            // A non-finite state: back to the prior, as KalmanFilter does. Past a stream's first step the stream starts
            // again from it with this reading as the first, learning nothing, as after a huge gap; a first step that
            // failed is reported as the prior.
            inner.Initialize(kf, 0);
            ClearTangents(ad);
            if (first)
            {
                estimate.LogLikelihood = double.NaN;
                estimate.NormalizedInnovationSquared = double.NaN;
                inner.ReadState(kf, estimate.StateMean, estimate.StateCovariance);
            }
            else
            {
                StepWithCurrentNoise(kf, ad, observation, estimate, backwardRecord);
                estimate.Flags |= EstimateFlags.Reinitialized;
            }
        }

        WriteParameters(ad, estimate.Parameters, estimate.ParameterDeviations);
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var ad = state[kfLength..Info.StateLength];
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var r = arena.Take(m * m);
        var q = arena.Take(n * n);
        CurrentNoise(ad, stepGap, true, r, q);
        inner.ForecastWithNoise(state[..kfLength], stepGap, forecast, r, q);
        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        inner.ReadState(state[..kfLength], mean, covariance);
    }

    /// <inheritdoc />
    int IFormerRecords.FormerRecordLength => ((IFormerRecords)inner).FormerRecordLength;

    /// <inheritdoc />
    void IFormerRecords.UpgradeRecord(ReadOnlySpan<double> former, ReadOnlySpan<double> state, bool newest, Span<double> record) =>
        ((IFormerRecords)inner).UpgradeRecord(former, state[..Math.Min(kfLength, state.Length)], newest, record);

    /// <inheritdoc />
    bool IFormerRecords.IsFormerRecord(ReadOnlySpan<double> record) => ((IFormerRecords)inner).IsFormerRecord(record);

    /// <inheritdoc />
    void IFormerRecords.StartBackwardAsFormer(ReadOnlySpan<double> record, Span<double> message) =>
        ((IFormerRecords)inner).StartBackwardAsFormer(record, message);

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        inner.StartBackward(record, message);
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        inner.Backward(record, nextRecord, message);
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        inner.ReadSmoothed(record, message, mean, covariance);
    }

    /// <summary>
    /// After a re-initialised step: true when the stream restarted from the prior (a huge gap, a non-finite state) and
    /// assimilated its reading as a first step with the values learned so far, so its record is the first of the new
    /// stretch; false when the state was left at the prior (the next reading is the stretch's first).
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => state[KalmanFilter.StepCountOffset] > 0.0;

    private void StepWithCurrentNoise(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var r = arena.Take(m * m);
        var q = arena.Take(n * n);
        CurrentNoise(ad, observation.TimeGap, kf[KalmanFilter.StepCountOffset] != 0.0, r, q);
        inner.StepWithNoise(kf, observation, estimate, backwardRecord, r, q);
        arena.Release(mark);
    }

    /// <summary>R (m×m) and Q(Δt) (n×n) with the stream's current values.</summary>
    private void CurrentNoise(ReadOnlySpan<double> ad, double gap, bool predicts, Span<double> r, Span<double> q)
    {
        noise.Model.ObservationNoise.CopyTo(r);
        var values = ad.Slice(valueSlot, p);
        var alpha = ad.Slice(alphaSlot, vb);
        var beta = ad.Slice(betaSlot, vb);
        for (var i = 0; i < m; i++)
        {
            r[(i * m) + i] = noise.ObservationVariance(i, values, alpha, beta);
        }

        if (!predicts || !double.IsFinite(gap))
        {
            // The first step does not predict (and a non-finite gap is the model's to refuse): the model's Q.
            var arena = ScratchArena.Current;
            var mark = arena.Mark;
            noise.Model.Dynamics.Discretize(double.IsFinite(gap) ? gap : 1.0, arena.Take(n * n), q, arena.Take(n));
            arena.Release(mark);
            return;
        }

        var d = Discretization(gap);
        var nn = n * n;
        d.Slice(nn, nn).CopyTo(q);
        for (var j = 0; j < rates; j++)
        {
            var theta = values[j];
            var b = d.Slice(((2 + j) * nn) + n, nn);
            for (var k = 0; k < nn; k++)
            {
                q[k] += theta * b[k];
            }
        }
    }

    /// <summary>F, Q_fixed, c, B_1 … B_r for a gap (laid out as <see cref="GapDiscretization.Values"/>).</summary>
    private ReadOnlySpan<double> Discretization(double gap)
    {
        if (timeInvariant is not null)
        {
            return timeInvariant;
        }

        var cache = GapDiscretization.ForThread;
        if (!cache.Holds(this, gap))
        {
            cache.Claim(this, gap, discretizationLength);
            Discretize(gap, cache.Values(discretizationLength));
        }

        return cache.Values(discretizationLength);
    }

    private void Discretize(double gap, Span<double> target)
    {
        var nn = n * n;
        target.Clear();
        var f = target[..nn];
        var q = target.Slice(nn, nn);
        var c = target.Slice(2 * nn, n);
        noise.FixedDynamics.Discretize(gap, f, q, c);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var fs = arena.Take(nn);
        var cs = arena.Take(n);
        for (var j = 0; j < rates; j++)
        {
            noise.Bases[j].Discretize(gap, fs, target.Slice(((2 + j) * nn) + n, nn), cs);
        }

        arena.Release(mark);
        if (small)
        {
            // Padded to 4×4 for the vector kernel: F, F', the symmetric part of Q_fixed, c, then each B_j.
            var padded = target[unpaddedLength..];
            for (var i = 0; i < n; i++)
            {
                padded[48 + i] = c[i];
                for (var j = 0; j < n; j++)
                {
                    padded[(i * 4) + j] = f[(i * n) + j];
                    padded[16 + (j * 4) + i] = f[(i * n) + j];
                    padded[32 + (i * 4) + j] = 0.5 * (q[(i * n) + j] + q[(j * n) + i]);
                    for (var r = 0; r < rates; r++)
                    {
                        var b = target.Slice(((2 + r) * nn) + n, nn);
                        padded[52 + (16 * r) + (i * 4) + j] = 0.5 * (b[(i * n) + j] + b[(j * n) + i]);
                    }
                }
            }
        }
    }

    private void ClearTangents(Span<double> ad)
    {
        ad.Slice(memorySlot, m).Clear();
        ad.Slice(daSlot, infoSlot - daSlot).Clear();
    }

    private void WriteParameters(ReadOnlySpan<double> ad, Span<double> values, Span<double> deviations)
    {
        noise.Write(ad.Slice(valueSlot, p), ad.Slice(sdSlot, p), ad.Slice(alphaSlot, vb), ad.Slice(betaSlot, vb), values, deviations);
    }

    /// <summary>
    /// <see cref="Adapt"/> for one state and one observation in scalars (recursive maximum likelihood only, at most one
    /// rate and the observation variance, no control, no backward record): the same algebra, with the Joseph form
    /// (1 − K h)² P⁻ + K² r and its derivative ∂P = ∂P⁻ − 2 K U + K² ∂S (U = h ∂P⁻).
    /// </summary>
    private bool ScalarStep(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate)
    {
        var meanSlot = KalmanFilter.MeanOffset;
        var a = kf[meanSlot];
        var pv = kf[meanSlot + 1];
        var first = kf[KalmanFilter.StepCountOffset] == 0.0;
        var values = ad.Slice(valueSlot, p);
        var da = ad.Slice(daSlot, p);
        var dp = ad.Slice(dpSlot, p);
        var obsParameter = scalarObservationParameter;
        var theta = rates == 1 ? values[0] : 0.0;
        var r = obsParameter >= 0 ? values[obsParameter] : noise.Model.ObservationNoise[0];
        double da0 = p > 0 ? da[0] : 0.0, dp0 = p > 0 ? dp[0] : 0.0;
        double da1 = p > 1 ? da[1] : 0.0, dp1 = p > 1 ? dp[1] : 0.0;
        if (!first)
        {
            var d = Discretization(observation.TimeGap);
            double f = d[0], qFixed = d[1], c = d[2];
            var b = rates == 1 ? d[3] : 0.0;
            var previous = pv;
            a = (f * a) + c;
            pv = (f * f * pv) + qFixed + (theta * b);
            if (KalmanFilter.LostInRounding(pv, previous, inner.RestartFloor))
            {
                return false;
            }

            // ∂a⁻ = f ∂a; ∂P⁻ = f² ∂P + θ b for the rate (parameter 0 when there is one).
            da0 *= f;
            da1 *= f;
            dp0 = (f * f * dp0) + (rates == 1 ? theta * b : 0.0);
            dp1 *= f * f;
        }

        var h = scalarObservation;
        var predictedY = (h * a) + scalarOffset;
        var hph = h * h * pv;
        if (!(hph >= 0.0))
        {
            hph = 0.0;
            estimate.Flags |= EstimateFlags.Repaired;
        }

        var s = hph + r;
        estimate.PredictedMean[0] = a;
        estimate.PredictedCovariance[0] = pv;
        var inverse = 1.0 / s;
        var (kept, learn) = ScalarReading(ad, observation.Values[0], predictedY, s, inverse, estimate, out var v);

        if (kept)
        {
            var k = pv * h * inverse;
            var w = v * inverse;
            var oneMinus = 1.0 - (k * h);
            a += k * v;
            var updated = (oneMinus * oneMinus * pv) + (k * k * r);
            if (p > 0)
            {
                // Parameter 0 is the rate when there is one, else the observation variance; parameter 1 is then it.
                var ds0 = (h * h * dp0) + (obsParameter == 0 ? r : 0.0);
                var ds1 = (h * h * dp1) + (obsParameter == 1 ? r : 0.0);
                var dv0 = -h * da0;
                var dv1 = -h * da1;
                var u0 = h * dp0;
                var u1 = h * dp1;
                var g0 = (-0.5 * ds0 * inverse) + (0.5 * w * w * ds0) - (w * dv0);
                var g1 = (-0.5 * ds1 * inverse) + (0.5 * w * w * ds1) - (w * dv1);
                da0 += (u0 * w) + (k * (dv0 - (ds0 * w)));
                da1 += (u1 * w) + (k * (dv1 - (ds1 * w)));
                dp0 += (-2.0 * k * u0) + (k * k * ds0);
                dp1 += (-2.0 * k * u1) + (k * k * ds1);
                if (learn)
                {
                    Span<double> g = [g0, g1];
                    Span<double> ds = [ds0, ds1];
                    Span<double> dv = [dv0, dv1];
                    LearnFromScalarInnovation(ad, values, g, ds, dv, inverse);
                }
            }

            pv = updated;
        }

        if (p > 0)
        {
            da[0] = da0;
            dp[0] = dp0;
        }

        if (p > 1)
        {
            da[1] = da1;
            dp[1] = dp1;
        }

        kf[meanSlot] = a;
        kf[meanSlot + 1] = pv;
        kf[KalmanFilter.StepCountOffset] += 1.0;
        estimate.StateMean[0] = a;
        estimate.StateCovariance[0] = pv;
        if (!double.IsFinite(a) || !(pv >= 0.0) || double.IsInfinity(pv))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }

        return true;
    }

    /// <summary>
    /// The reading <paramref name="y"/> of a one-component model with predictive mean <paramref name="predictedY"/> and
    /// variance <paramref name="s"/> (<paramref name="inverse"/> = 1/s): the observation moments, the innovation v, the
    /// log-likelihood and NIS (or the skipped reading) and the outlier gate. Returns whether the reading is kept in the
    /// update and whether it may be learned from (neither for a missing or skipped reading).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (bool Kept, bool Learn) ScalarReading(Span<double> ad, double y, double predictedY, double s, double inverse, Estimate estimate, out double v)
    {
        estimate.ObservationMean[0] = predictedY;
        estimate.ObservationCovariance[0] = s;
        v = 0.0;
        if (!double.IsFinite(y))
        {
            return (false, false);
        }

        v = y - predictedY;
        var z2 = v * v * inverse;
        if (!(s > 0.0) || !double.IsFinite(z2))
        {
            KalmanFilter.SkipReading(estimate, s > 0.0 && !double.IsInfinity(s) ? 1 : 0);
            return (false, false);
        }

        estimate.ObservedCount = 1;
        estimate.NormalizedInnovationSquared = z2;
        estimate.LogLikelihood = -0.5 * (Log2Pi + Math.Log(s) + z2);
        return Gate(ad, 0, z2 > gateSquared, estimate);
    }

    /// <summary>
    /// <see cref="Adapt"/> for two states and one observation in scalars (recursive maximum likelihood only, at most
    /// <see cref="TwoStateMaxParameters"/> learned values, no control, no backward record), the Joseph form as
    /// <see cref="KalmanFilter"/>'s two-state kernel has it and the tangents as in <see cref="FastUpdate"/> with k = 1.
    /// </summary>
    [SkipLocalsInit]
    private bool TwoStateStep(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate)
    {
        var p = this.p;
        var covSlot = inner.CovarianceOffset;
        var mean = kf.Slice(KalmanFilter.MeanOffset, 2);
        var cov = kf.Slice(covSlot, 4);
        double a0 = mean[0], a1 = mean[1], p00 = cov[0], p01 = cov[1], p11 = cov[3];
        var values = ad.Slice(valueSlot, p);
        var da = ad.Slice(daSlot, 2 * p);
        var dp = ad.Slice(dpSlot, 4 * p);

        // Predicted tangents, three symmetric entries each: ∂a⁻ (2), ∂P⁻ (00, 01, 11).
        Span<double> t = stackalloc double[5 * TwoStateMaxParameters];
        for (var j = 0; j < p; j++)
        {
            t[(5 * j) + 0] = da[2 * j];
            t[(5 * j) + 1] = da[(2 * j) + 1];
            t[(5 * j) + 2] = dp[4 * j];
            t[(5 * j) + 3] = dp[(4 * j) + 1];
            t[(5 * j) + 4] = dp[(4 * j) + 3];
        }

        if (kf[KalmanFilter.StepCountOffset] != 0.0)
        {
            var d = Discretization(observation.TimeGap);
            double f00 = d[0], f01 = d[1], f10 = d[2], f11 = d[3];
            double q00 = d[4], q01 = 0.5 * (d[5] + d[6]), q11 = d[7];
            for (var r = 0; r < rates; r++)
            {
                var b = 10 + (4 * r);
                q00 += values[r] * d[b];
                q01 += values[r] * 0.5 * (d[b + 1] + d[b + 2]);
                q11 += values[r] * d[b + 3];
            }

            var na0 = (f00 * a0) + (f01 * a1) + d[8];
            var na1 = (f10 * a0) + (f11 * a1) + d[9];
            a0 = na0;
            a1 = na1;
            if (!PredictCovariance(f00, f01, f10, f11, q00, q01, q11, ref p00, ref p01, ref p11))
            {
                return false;
            }

            for (var j = 0; j < p; j++)
            {
                var o = 5 * j;
                double x0 = t[o], x1 = t[o + 1];
                t[o] = (f00 * x0) + (f01 * x1);
                t[o + 1] = (f10 * x0) + (f11 * x1);
                var (s00, s01, s11) = Sandwich(f00, f01, f10, f11, t[o + 2], t[o + 3], t[o + 4]);
                if (j < rates)
                {
                    var b = 10 + (4 * j);
                    var theta = values[j];
                    s00 += theta * d[b];
                    s01 += theta * 0.5 * (d[b + 1] + d[b + 2]);
                    s11 += theta * d[b + 3];
                }

                t[o + 2] = s00;
                t[o + 3] = s01;
                t[o + 4] = s11;
            }
        }

        if (KalmanFilter.OutsideTwoStateCone(p00, p01, p11))
        {
            Span<double> repaired = [p00, p01, p01, p11];
            Dense.RepairCovariance(repaired, 2);
            (p00, p01, p11) = (repaired[0], repaired[1], repaired[3]);
            estimate.Flags |= EstimateFlags.Repaired;
        }

        var h = noise.Model.Observation;
        double h0 = h[0], h1 = h[1];
        var obsParameter = scalarObservationParameter;
        var r0 = obsParameter >= 0 ? values[obsParameter] : noise.Model.ObservationNoise[0];
        var predictedY = (h0 * a0) + (h1 * a1) + scalarOffset;
        var u0 = (p00 * h0) + (p01 * h1);
        var u1 = (p01 * h0) + (p11 * h1);
        var hph = (h0 * u0) + (h1 * u1);
        if (!(hph >= 0.0))
        {
            hph = 0.0;
            estimate.Flags |= EstimateFlags.Repaired;
        }

        var s = hph + r0;
        var pm = estimate.PredictedMean;
        var pc = estimate.PredictedCovariance;
        pm[0] = a0;
        pm[1] = a1;
        pc[0] = p00;
        pc[1] = p01;
        pc[2] = p01;
        pc[3] = p11;
        var inverse = 1.0 / s;
        var (kept, learn) = ScalarReading(ad, observation.Values[0], predictedY, s, inverse, estimate, out var v);

        if (kept)
        {
            var k0 = u0 * inverse;
            var k1 = u1 * inverse;
            a0 += k0 * v;
            a1 += k1 * v;

            // Joseph form as KalmanFilter's two-state kernel: A P = P − K u', P = A P + D K' with D = K r − (A P) h'
            // or K s − P h', whichever KalmanFilter.KeepsFeedback takes (the inner filter holds the same h).
            var ap00 = p00 - (k0 * u0);
            var ap11 = p11 - (k1 * u1);
            var feedback = inner.KeepsFeedbackTwoStates(ap00, ap11, p00, p11, k0, k1);
            (p00, p01, p11) = KalmanFilter.JosephTwoStates(feedback, ap00, p01 - (k0 * u1), p01 - (k1 * u0), ap11, k0, k1, h0, h1, r0, s, u0, u1);
            if (p > 0)
            {
                // Tangents and score: U = ∂P⁻ h, ∂S = h'U (+ r), ∂v = −h'∂a⁻; ∂a = ∂a⁻ + U w + K (∂v − ∂S w);
                // ∂P = ∂P⁻ − K U' − U K' + ∂S K K'.
                var w = v * inverse;
                Span<double> g = stackalloc double[TwoStateMaxParameters];
                Span<double> ds = stackalloc double[TwoStateMaxParameters];
                Span<double> dv = stackalloc double[TwoStateMaxParameters];
                for (var j = 0; j < p; j++)
                {
                    var o = 5 * j;
                    double x0 = t[o], x1 = t[o + 1], d00 = t[o + 2], d01 = t[o + 3], d11 = t[o + 4];
                    var v0 = (d00 * h0) + (d01 * h1);
                    var v1 = (d01 * h0) + (d11 * h1);
                    var dsj = (h0 * v0) + (h1 * v1) + (j == obsParameter ? r0 : 0.0);
                    var dvj = -((h0 * x0) + (h1 * x1));
                    ds[j] = dsj;
                    dv[j] = dvj;
                    g[j] = (-0.5 * dsj * inverse) + (0.5 * w * w * dsj) - (w * dvj);
                    var e = dvj - (dsj * w);
                    da[2 * j] = x0 + (v0 * w) + (k0 * e);
                    da[(2 * j) + 1] = x1 + (v1 * w) + (k1 * e);
                    var e00 = d00 - (2.0 * k0 * v0) + (dsj * k0 * k0);
                    var e01 = d01 - (k0 * v1) - (v0 * k1) + (dsj * k0 * k1);
                    var e11 = d11 - (2.0 * k1 * v1) + (dsj * k1 * k1);
                    dp[4 * j] = e00;
                    dp[(4 * j) + 1] = e01;
                    dp[(4 * j) + 2] = e01;
                    dp[(4 * j) + 3] = e11;
                }

                if (learn)
                {
                    LearnFromScalarInnovation(ad, values, g, ds, dv, inverse);
                }
            }
        }
        else
        {
            for (var j = 0; j < p; j++)
            {
                var o = 5 * j;
                da[2 * j] = t[o];
                da[(2 * j) + 1] = t[o + 1];
                dp[4 * j] = t[o + 2];
                dp[(4 * j) + 1] = t[o + 3];
                dp[(4 * j) + 2] = t[o + 3];
                dp[(4 * j) + 3] = t[o + 4];
            }
        }

        mean[0] = a0;
        mean[1] = a1;
        cov[0] = p00;
        cov[1] = p01;
        cov[2] = p01;
        cov[3] = p11;
        kf[KalmanFilter.StepCountOffset] += 1.0;
        var sm = estimate.StateMean;
        var sc = estimate.StateCovariance;
        sm[0] = a0;
        sm[1] = a1;
        sc[0] = p00;
        sc[1] = p01;
        sc[2] = p01;
        sc[3] = p11;
        if (!double.IsFinite(a0) || !double.IsFinite(a1) || !double.IsFinite(p00) || !double.IsFinite(p01) || !double.IsFinite(p11))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
        else if (KalmanFilter.OutsideTwoStateCone(p00, p01, p11))
        {
            Dense.RepairCovariance(cov, 2);
            cov.CopyTo(sc);
            estimate.Flags |= EstimateFlags.Repaired;
        }

        return true;
    }

    /// <summary>
    /// The step of a model that splits into <see cref="IndependentBlocks"/> (each one or two states read by one
    /// component): <see cref="TwoStateStep"/>'s algebra block by block (a one-state block is a two-state block whose
    /// second state is identically zero), the log-likelihood, NIS, score and information summed over the blocks (S is
    /// diagonal), and one Gauss–Newton step. The Joseph form takes <see cref="KalmanFilter.KeepsFeedback"/>'s choice
    /// for the whole update, as <see cref="KalmanFilter"/> does for the same model. Returns null, having written
    /// nothing, when a block needs the general kernel's guard rails (a repair, a skipped reading, a state lost to
    /// rounding); else true.
    /// </summary>
    [SkipLocalsInit]
    private bool? BlockStep(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate)
    {
        const int Width = 9;
        var n = this.n;
        var m = this.m;
        var p = this.p;
        var plan = blocks!;
        var count = plan.Count;
        var mean = kf.Slice(KalmanFilter.MeanOffset, n);
        var cov = kf.Slice(inner.CovarianceOffset, n * n);
        var values = ad.Slice(valueSlot, p);
        var da = ad.Slice(daSlot, p * n);
        var dp = ad.Slice(dpSlot, p * n * n);
        var y = observation.Values;
        var predicts = kf[KalmanFilter.StepCountOffset] != 0.0;
        var d = predicts ? Discretization(observation.TimeGap) : default;
        var h = noise.Model.Observation;
        var offset = noise.Model.ObservationOffset;

        // Pass 1, per block: a⁻ (2), P⁻ (00, 01, 11), u = P⁻ h (2), s, log s (a block with a reading), then 5 numbers
        // per parameter (∂a⁻, ∂P⁻). Also KalmanFilter.KeepsFeedback's choice of Joseph form for the whole update,
        // A = I − K H_o being block-diagonal: ‖K‖∞, ‖H_o‖∞ and the row sums of A block by block (rows of I for a block
        // that the gate will leave out or that has no reading), and the largest variances of A P⁻ and P⁻ over every
        // state. log s is taken here, before pass 2's clears, on purpose: the runtime's vectorised Clear leaves the
        // upper halves of the vector registers dirty (a 512-bit store, no vzeroupper on its way out), and Math.Log
        // calls the C library's log, whose entry is legacy SSE code, so a Math.Log after the clears stalls on the
        // SSE/AVX transition. It cost the 2-D constant-velocity step about 280 ns (355 → 635 ns on an AVX-512 Xeon).
        Span<double> blockState = stackalloc double[count * Width];
        Span<double> tangents = stackalloc double[count * 5 * p];
        var learn = true;
        var any = false;
        double updatedLargest = 0.0, predictedLargest = 0.0, gainNorm = 0.0, loading = 0.0, rowNorm = 0.0;
        for (var b = 0; b < count; b++)
        {
            int s0 = plan.First[b], s1 = plan.Second[b], o = plan.Observation[b];
            var two = s1 >= 0;
            double a0 = mean[s0], a1 = two ? mean[s1] : 0.0;
            double p00 = cov[(s0 * n) + s0], p01 = two ? cov[(s0 * n) + s1] : 0.0, p11 = two ? cov[(s1 * n) + s1] : 0.0;
            var t = tangents.Slice(b * 5 * p, 5 * p);
            foreach (var j in plan.Active[b])
            {
                var x = t.Slice(5 * j, 5);
                x[0] = da[(j * n) + s0];
                x[1] = two ? da[(j * n) + s1] : 0.0;
                var dj = dp.Slice(j * n * n, n * n);
                x[2] = dj[(s0 * n) + s0];
                x[3] = two ? dj[(s0 * n) + s1] : 0.0;
                x[4] = two ? dj[(s1 * n) + s1] : 0.0;
            }

            if (predicts)
            {
                var nn = n * n;
                double f00 = d[(s0 * n) + s0], f01 = two ? d[(s0 * n) + s1] : 0.0, f10 = two ? d[(s1 * n) + s0] : 0.0, f11 = two ? d[(s1 * n) + s1] : 0.0;
                var q = d.Slice(nn, nn);
                double q00 = q[(s0 * n) + s0], q01 = two ? 0.5 * (q[(s0 * n) + s1] + q[(s1 * n) + s0]) : 0.0, q11 = two ? q[(s1 * n) + s1] : 0.0;
                for (var r = 0; r < rates; r++)
                {
                    var basis = d.Slice(((2 + r) * nn) + n, nn);
                    q00 += values[r] * basis[(s0 * n) + s0];
                    if (two)
                    {
                        q01 += values[r] * 0.5 * (basis[(s0 * n) + s1] + basis[(s1 * n) + s0]);
                        q11 += values[r] * basis[(s1 * n) + s1];
                    }
                }

                var c = d.Slice(2 * nn, n);
                var na0 = (f00 * a0) + (f01 * a1) + c[s0];
                var na1 = two ? (f10 * a0) + (f11 * a1) + c[s1] : 0.0;
                a0 = na0;
                a1 = na1;
                if (!PredictCovariance(f00, f01, f10, f11, q00, q01, q11, ref p00, ref p01, ref p11))
                {
                    return null;
                }

                foreach (var j in plan.Active[b])
                {
                    var x = t.Slice(5 * j, 5);
                    double x0 = x[0], x1 = x[1];
                    x[0] = (f00 * x0) + (f01 * x1);
                    x[1] = (f10 * x0) + (f11 * x1);
                    var (e00, e01, e11) = Sandwich(f00, f01, f10, f11, x[2], x[3], x[4]);
                    if (j < rates)
                    {
                        var basis = d.Slice(((2 + j) * nn) + n, nn);
                        var theta = values[j];
                        e00 += theta * basis[(s0 * n) + s0];
                        if (two)
                        {
                            e01 += theta * 0.5 * (basis[(s0 * n) + s1] + basis[(s1 * n) + s0]);
                            e11 += theta * basis[(s1 * n) + s1];
                        }
                    }

                    x[2] = e00;
                    x[3] = e01;
                    x[4] = e11;
                }
            }

            if (KalmanFilter.OutsideTwoStateCone(p00, p01, p11))
            {
                return null;
            }

            double h0 = h[(o * n) + s0], h1 = two ? h[(o * n) + s1] : 0.0;
            var u0 = (p00 * h0) + (p01 * h1);
            var u1 = (p01 * h0) + (p11 * h1);
            var hph = (h0 * u0) + (h1 * u1);
            var sb = hph + ObservationValue(o, values);
            if (!(hph >= 0.0))
            {
                return null;
            }

            var st = blockState.Slice(b * Width, Width);
            st[0] = a0;
            st[1] = a1;
            st[2] = p00;
            st[3] = p01;
            st[4] = p11;
            st[5] = u0;
            st[6] = u1;
            st[7] = sb;
            double ap00 = p00, ap11 = p11;
            var kept = false;
            if (double.IsFinite(y[o]))
            {
                var inverse = 1.0 / sb;
                var v = y[o] - ((h0 * a0) + (h1 * a1) + offset[o]);
                var z2 = v * v * inverse;
                if (!(sb > 0.0) || !double.IsFinite(z2))
                {
                    return null;
                }

                st[8] = Math.Log(sb);

                // What Gate will decide in pass 2 (this block's component is no other block's).
                any = true;
                var beyond = z2 > gateSquared;
                learn &= !beyond;
                kept = !beyond || ad[memorySlot + o] != 0.0;
                if (kept)
                {
                    double k0 = u0 * inverse, k1 = u1 * inverse;
                    ap00 = p00 - (k0 * u0);
                    ap11 = p11 - (k1 * u1);
                    gainNorm = Math.Max(gainNorm, Math.Max(Math.Abs(k0), Math.Abs(k1)));
                    loading = Math.Max(loading, Math.Abs(h0) + Math.Abs(h1));
                    rowNorm = Math.Max(rowNorm, Math.Max(Math.Abs(1.0 - (k0 * h0)) + (Math.Abs(k0) * Math.Abs(h1)), two ? Math.Abs(1.0 - (k1 * h1)) + (Math.Abs(k1) * Math.Abs(h0)) : 0.0));
                }
            }

            rowNorm = kept ? rowNorm : Math.Max(rowNorm, 1.0);
            updatedLargest = Math.Max(updatedLargest, Math.Max(ap00, ap11));
            predictedLargest = Math.Max(predictedLargest, Math.Max(p00, p11));
        }

        var feedback = ((1.0 + (gainNorm * loading)) * updatedLargest <= predictedLargest) || (rowNorm * updatedLargest <= predictedLargest);

        // Pass 2: outputs, gate, update, tangents; nothing failed above.
        var pm = estimate.PredictedMean;
        var pc = estimate.PredictedCovariance;
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        Array.Clear(pc);
        Array.Clear(oc);
        cov.Clear();
        Span<double> g = stackalloc double[p];
        Span<double> information = stackalloc double[p * p];
        g.Clear();
        information.Clear();
        var loglik = 0.0;
        var nis = 0.0;
        var observed = 0;
        for (var b = 0; b < count; b++)
        {
            int s0 = plan.First[b], s1 = plan.Second[b], o = plan.Observation[b];
            var two = s1 >= 0;
            var st = blockState.Slice(b * Width, Width);
            double a0 = st[0], a1 = st[1], p00 = st[2], p01 = st[3], p11 = st[4], u0 = st[5], u1 = st[6], sb = st[7];
            var t = tangents.Slice(b * 5 * p, 5 * p);
            double h0 = h[(o * n) + s0], h1 = two ? h[(o * n) + s1] : 0.0;
            var rb = ObservationValue(o, values);
            var predictedY = (h0 * a0) + (h1 * a1) + offset[o];
            pm[s0] = a0;
            pc[(s0 * n) + s0] = p00;
            if (two)
            {
                pm[s1] = a1;
                pc[(s0 * n) + s1] = p01;
                pc[(s1 * n) + s0] = p01;
                pc[(s1 * n) + s1] = p11;
            }

            om[o] = predictedY;
            oc[(o * m) + o] = sb;
            var kept = false;
            var v = 0.0;
            var inverse = 1.0 / sb;
            if (double.IsFinite(y[o]))
            {
                v = y[o] - predictedY;
                var z2 = v * v * inverse;
                loglik -= 0.5 * (Log2Pi + st[8] + z2);
                nis += z2;
                observed++;
                kept = Gate(ad, o, z2 > gateSquared, estimate).Kept;
            }

            if (kept)
            {
                var k0 = u0 * inverse;
                var k1 = u1 * inverse;
                a0 += k0 * v;
                a1 += k1 * v;
                (p00, p01, p11) = KalmanFilter.JosephTwoStates(
                    feedback, p00 - (k0 * u0), p01 - (k0 * u1), p01 - (k1 * u0), p11 - (k1 * u1), k0, k1, h0, h1, rb, sb, u0, u1);
                var w = v * inverse;
                var half = 0.5 * inverse * inverse;
                var active = plan.Active[b];
                foreach (var j in active)
                {
                    var x = t.Slice(5 * j, 5);
                    double x0 = x[0], x1 = x[1], d00 = x[2], d01 = x[3], d11 = x[4];
                    var v0 = (d00 * h0) + (d01 * h1);
                    var v1 = (d01 * h0) + (d11 * h1);
                    var dsj = (h0 * v0) + (h1 * v1) + (j >= rates && noise.ObservationSlot[o] == j ? rb : 0.0);
                    var dvj = -((h0 * x0) + (h1 * x1));
                    g[j] += (-0.5 * dsj * inverse) + (0.5 * w * w * dsj) - (w * dvj);
                    foreach (var l in active)
                    {
                        var xl = t.Slice(5 * l, 5);
                        var dsl = (h0 * ((xl[2] * h0) + (xl[3] * h1))) + (h1 * ((xl[3] * h0) + (xl[4] * h1))) + (l >= rates && noise.ObservationSlot[o] == l ? rb : 0.0);
                        var dvl = -((h0 * xl[0]) + (h1 * xl[1]));
                        information[(j * p) + l] += (half * dsj * dsl) + (dvj * dvl * inverse);
                    }

                    var e = dvj - (dsj * w);
                    x[0] = x0 + (v0 * w) + (k0 * e);
                    x[1] = x1 + (v1 * w) + (k1 * e);
                    x[2] = d00 - (2.0 * k0 * v0) + (dsj * k0 * k0);
                    x[3] = d01 - (k0 * v1) - (v0 * k1) + (dsj * k0 * k1);
                    x[4] = d11 - (2.0 * k1 * v1) + (dsj * k1 * k1);
                }
            }

            mean[s0] = a0;
            cov[(s0 * n) + s0] = p00;
            if (two)
            {
                mean[s1] = a1;
                cov[(s0 * n) + s1] = p01;
                cov[(s1 * n) + s0] = p01;
                cov[(s1 * n) + s1] = p11;
            }

            foreach (var j in plan.Active[b])
            {
                var x = t.Slice(5 * j, 5);
                var dj = dp.Slice(j * n * n, n * n);
                da[(j * n) + s0] = x[0];
                dj[(s0 * n) + s0] = x[2];
                if (two)
                {
                    da[(j * n) + s1] = x[1];
                    dj[(s0 * n) + s1] = x[3];
                    dj[(s1 * n) + s0] = x[3];
                    dj[(s1 * n) + s1] = x[4];
                }
            }
        }

        if (observed > 0)
        {
            estimate.ObservedCount = observed;
            estimate.LogLikelihood = loglik;
            estimate.NormalizedInnovationSquared = nis;
        }

        if (any && learn)
        {
            var discounted = ad.Slice(infoSlot, p * p);
            for (var i = 0; i < p * p; i++)
            {
                discounted[i] = (lambda * discounted[i]) + information[i];
            }

            LearnStep(ad, values, g);
        }

        KalmanFilter.CompleteStep(kf, mean, cov, n, estimate, inner.FragileVariance);
        return true;
    }

    /// <summary>F X F' for 2×2 F and symmetric X (entries 00, 01, 11).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double X00, double X01, double X11) Sandwich(double f00, double f01, double f10, double f11, double x00, double x01, double x11)
    {
        var fx00 = (f00 * x00) + (f01 * x01);
        var fx01 = (f00 * x01) + (f01 * x11);
        var fx10 = (f10 * x00) + (f11 * x01);
        var fx11 = (f10 * x01) + (f11 * x11);
        return ((fx00 * f00) + (fx01 * f01), (fx00 * f10) + (fx01 * f11), (fx10 * f10) + (fx11 * f11));
    }

    /// <summary>
    /// P⁻ = F P F' + Q for 2×2 F and symmetric P, Q (entries 00, 01, 11), in place; false when the prediction lost the
    /// state to rounding (<see cref="KalmanFilter.LostInRounding"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool PredictCovariance(
        double f00, double f01, double f10, double f11, double q00, double q01, double q11, ref double p00, ref double p01, ref double p11)
    {
        var previous = Math.Max(p00, p11);
        (p00, p01, p11) = Sandwich(f00, f01, f10, f11, p00, p01, p11);
        p00 += q00;
        p01 += q01;
        p11 += q11;
        return !KalmanFilter.LostInRounding(Math.Max(p00, p11), previous, inner.RestartFloor);
    }

    /// <summary>
    /// The outlier gate for component <paramref name="component"/> with squared standardised innovation beyond the
    /// gate or not: returns whether the component is kept in the update and whether the reading may be learned from.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (bool Kept, bool Learn) Gate(Span<double> ad, int component, bool beyond, Estimate estimate)
    {
        ref var memory = ref ad[memorySlot + component];
        if (!beyond)
        {
            memory = 0.0;
            return (true, true);
        }

        if (memory == 0.0)
        {
            memory = 1.0;
            estimate.Flags |= EstimateFlags.OutlierRejected;
            return (false, false);
        }

        memory = 0.0;
        return (true, false);
    }

    /// <summary>
    /// The gate over the <paramref name="count"/> observed components listed in <paramref name="observed"/>: a
    /// component beyond it stops learning from this reading, and is left out of the update unless the previous reading
    /// of that component was left out too (its <paramref name="memory"/> entry). Compacts the kept components to the
    /// front of <paramref name="observed"/> and returns how many there are.
    /// </summary>
    private int GateComponents(
        Span<int> observed, int count, ReadOnlySpan<double> y, ReadOnlySpan<double> om, ReadOnlySpan<double> oc, int m, Span<double> memory, ref bool learn, Estimate estimate)
    {
        var kept = 0;
        for (var a = 0; a < count; a++)
        {
            var i = observed[a];
            var va = y[i] - om[i];
            if (va * va > gateSquared * oc[(i * m) + i])
            {
                learn = false;
                if (memory[i] == 0.0)
                {
                    memory[i] = 1.0;
                    estimate.Flags |= EstimateFlags.OutlierRejected;
                    continue;
                }
            }

            memory[i] = 0.0;
            observed[kept++] = i;
        }

        return kept;
    }

    /// <summary>
    /// The learning step of a one-component reading: I ← λ I + i with i_jl = ½ ∂S_j ∂S_l / S² + ∂v_j ∂v_l / S, then
    /// θ ← θ exp(clip((I + εI)⁻¹ g)), the standard deviations kept in the state.
    /// </summary>
    private void LearnFromScalarInnovation(Span<double> ad, Span<double> values, Span<double> g, ReadOnlySpan<double> ds, ReadOnlySpan<double> dv, double inverse)
    {
        var information = ad.Slice(infoSlot, p * p);
        var half = 0.5 * inverse * inverse;
        for (var j = 0; j < p; j++)
        {
            for (var l = j; l < p; l++)
            {
                var value = (lambda * information[(j * p) + l]) + (half * ds[j] * ds[l]) + (dv[j] * dv[l] * inverse);
                information[(j * p) + l] = value;
                information[(l * p) + j] = value;
            }
        }

        LearnStep(ad, values, g);
    }

    /// <summary>
    /// Once the discounted information in the state holds this reading: the Gauss–Newton step on the log-parameters
    /// (<see cref="GaussNewtonStep"/>) and one more reading learned from.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LearnStep(Span<double> ad, Span<double> values, Span<double> g)
    {
        GaussNewtonStep(ad.Slice(infoSlot, p * p), g, ad.Slice(sdSlot, p), values);
        ad[0] += 1.0;
    }

    /// <summary>
    /// θ ← θ exp(clip((I + εI)⁻¹ g)) for the discounted information I (<paramref name="g"/> becomes the step; a
    /// non-finite component leaves its value alone), the standard deviations written to
    /// <paramref name="deviations"/>; nothing moves when I has no factor.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void GaussNewtonStep(Span<double> information, Span<double> g, Span<double> deviations, Span<double> values)
    {
        if (!DiscountedInformation.Step(information, p, g, deviations))
        {
            return;
        }

        for (var j = 0; j < p; j++)
        {
            if (double.IsFinite(g[j]))
            {
                values[j] *= Math.Exp(Math.Clamp(g[j], -maxStep, maxStep));
            }
        }
    }

    /// <summary>
    /// <see cref="FastStep"/> for 3–4 states and 1–2 observations, every component observed or none, with the rows of
    /// 4×4 (zero-padded) matrices in 256-bit vectors, as <see cref="KalmanFilter"/>'s small-model kernel does. Returns
    /// null when the outlier gate rejects a component (the caller then runs <see cref="FastStep"/>, which handles a
    /// partial update; nothing has been written), else whether the step ran (false: lost to rounding).
    /// </summary>
    [SkipLocalsInit]
    private bool? SmallStep(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var p = this.p;
        var nn = n * n;
        Span<double> buffer = stackalloc double[16 * (3 + (2 * SmallMaxParameters)) + (8 * SmallMaxParameters) + 48];
        var pcPad = buffer[..16];
        var work = buffer.Slice(16, 16);
        var dpmPad = buffer.Slice(32, 16 * SmallMaxParameters);
        var dpPad = buffer.Slice(32 + (16 * SmallMaxParameters), 16 * SmallMaxParameters);
        var damPad = buffer.Slice(32 + (32 * SmallMaxParameters), 4 * SmallMaxParameters);
        var daPad = buffer.Slice(32 + (36 * SmallMaxParameters), 4 * SmallMaxParameters);
        var mean4 = buffer.Slice(32 + (40 * SmallMaxParameters), 4);
        var vec = buffer.Slice(36 + (40 * SmallMaxParameters), 16);
        var mean = kf.Slice(KalmanFilter.MeanOffset, n);
        var cov = kf.Slice(inner.CovarianceOffset, nn);
        var values = ad.Slice(valueSlot, p);
        var da = ad.Slice(daSlot, p * n);
        var dp = ad.Slice(dpSlot, p * nn);
        var y = observation.Values;
        var observedCount = 0;
        for (var i = 0; i < m; i++)
        {
            observedCount += double.IsFinite(y[i]) ? 1 : 0;
        }

        if (observedCount != 0 && observedCount != m)
        {
            return null;
        }

        Pad(cov, n, pcPad);
        mean4.Clear();
        mean.CopyTo(mean4);
        for (var j = 0; j < p; j++)
        {
            Pad(dp.Slice(j * nn, nn), n, dpPad.Slice(16 * j, 16));
            var target = daPad.Slice(4 * j, 4);
            target.Clear();
            da.Slice(j * n, n).CopyTo(target);
        }

        var a = Vector256.Create((ReadOnlySpan<double>)mean4);
        if (kf[KalmanFilter.StepCountOffset] == 0.0)
        {
            dpPad[..(16 * p)].CopyTo(dpmPad);
            daPad[..(4 * p)].CopyTo(damPad);
        }
        else
        {
            var d = Discretization(observation.TimeGap)[unpaddedLength..];
            var fr = d[..16];
            var ftr = d.Slice(16, 16);
            var previous = KalmanFilter.LargestVariance(cov, n);

            // a⁻ = F a + c; P⁻ = F P F' + Q_fixed + Σ θ_j B_j; ∂a⁻ = F ∂a; ∂P⁻_j = F ∂P_j F' (+ θ_j B_j).
            a = Vector256.Create(d.Slice(48, 4)) + TimesTransposed(ftr, mean4);
            Vector256<double> q0 = Vector256.Create(d.Slice(32, 4)), q1 = Vector256.Create(d.Slice(36, 4));
            Vector256<double> q2 = Vector256.Create(d.Slice(40, 4)), q3 = Vector256.Create(d.Slice(44, 4));
            for (var r = 0; r < rates; r++)
            {
                var b = d.Slice(52 + (16 * r), 16);
                var theta = values[r];
                q0 += theta * Vector256.Create(b);
                q1 += theta * Vector256.Create(b[4..]);
                q2 += theta * Vector256.Create(b[8..]);
                q3 += theta * Vector256.Create(b[12..]);
            }

            SandwichAdd(fr, ftr, pcPad, q0, q1, q2, q3, work, pcPad);
            for (var j = 0; j < p; j++)
            {
                var target = dpmPad.Slice(16 * j, 16);
                var source = dpPad.Slice(16 * j, 16);
                TimesTransposed(ftr, daPad.Slice(4 * j, 4)).CopyTo(damPad.Slice(4 * j, 4));
                if (j < rates)
                {
                    var b = d.Slice(52 + (16 * j), 16);
                    var theta = values[j];
                    SandwichAdd(fr, ftr, source, theta * Vector256.Create(b), theta * Vector256.Create(b[4..]), theta * Vector256.Create(b[8..]), theta * Vector256.Create(b[12..]), work, target);
                }
                else
                {
                    SandwichAdd(fr, ftr, source, default, default, default, default, work, target);
                }
            }

            if (KalmanFilter.LostInRounding(Math.Max(Math.Max(pcPad[0], pcPad[5]), Math.Max(pcPad[10], pcPad[15])), previous, inner.RestartFloor))
            {
                return false;
            }
        }

        // Predictive moments of y: ŷ = H a⁻ + d, U = H P⁻, S = U H' + R.
        var h = noise.Model.Observation;
        var offset = noise.Model.ObservationOffset;
        var hPad = vec[..8];
        hPad.Clear();
        h[..n].CopyTo(hPad);
        if (m == 2)
        {
            h.Slice(n, n).CopyTo(hPad[4..]);
        }

        Vector256<double> h0 = Vector256.Create((ReadOnlySpan<double>)hPad), h1 = Vector256.Create(((ReadOnlySpan<double>)hPad)[4..]);
        var u0 = Times(pcPad, hPad[..4]);
        var u1 = m == 2 ? Times(pcPad, hPad[4..]) : default;
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        om[0] = Vector256.Sum(h0 * a) + offset[0];
        var r0 = ObservationValue(0, values);
        double s00 = Vector256.Sum(u0 * h0), s01 = 0.0, s11 = 0.0, r1 = 0.0;
        if (m == 2)
        {
            om[1] = Vector256.Sum(h1 * a) + offset[1];
            r1 = ObservationValue(1, values);
            s01 = Vector256.Sum(u0 * h1);
            s11 = Vector256.Sum(u1 * h1);
        }

        if (!(s00 >= 0.0) || !(s11 >= 0.0) || (s01 * s01) > (s00 * s11 * (1.0 + 1e-9)) + 1e-300)
        {
            // H P⁻ H' lost positive semi-definiteness to rounding: the general kernel repairs it.
            return null;
        }

        var r01 = m == 2 ? noise.Model.ObservationNoise[1] : 0.0;
        s00 += r0;
        s01 += r01;
        s11 += r1;
        oc[0] = s00;
        if (m == 2)
        {
            oc[1] = s01;
            oc[2] = s01;
            oc[3] = s11;
        }

        var learn = false;
        var kept = false;
        double v0 = 0.0, v1 = 0.0, i00 = 0.0, i01 = 0.0, i11 = 0.0;
        if (observedCount > 0)
        {
            v0 = y[0] - om[0];
            v1 = m == 2 ? y[1] - om[1] : 0.0;
            double l00 = Math.Sqrt(s00), l10 = m == 2 ? s01 / l00 : 0.0;
            var e11 = s11 - (l10 * l10);
            var l11 = m == 2 ? Math.Sqrt(e11) : 1.0;
            var w0 = v0 / l00;
            var w1 = m == 2 ? (v1 - (l10 * w0)) / l11 : 0.0;
            var nis = (w0 * w0) + (w1 * w1);
            var factored = s00 > 0.0 && !double.IsInfinity(s00) && (m == 1 || (e11 > 0.0 && !double.IsInfinity(e11)));
            if (!factored || !double.IsFinite(nis))
            {
                return null;
            }

            // Gate: any component beyond it makes the general kernel decide (a partial update); nothing written yet.
            if ((v0 * v0) > gateSquared * s00 || (m == 2 && (v1 * v1) > gateSquared * s11))
            {
                return null;
            }

            estimate.ObservedCount = m;
            estimate.NormalizedInnovationSquared = nis;
            estimate.LogLikelihood = -0.5 * ((m * Log2Pi) + (2.0 * (Math.Log(l00) + (m == 2 ? Math.Log(l11) : 0.0))) + nis);
            var memory = ad.Slice(memorySlot, m);
            memory.Clear();
            kept = true;
            learn = true;
            var det = (s00 * s11) - (s01 * s01);
            if (m == 1)
            {
                i00 = 1.0 / s00;
            }
            else
            {
                var inverse = 1.0 / det;
                i00 = s11 * inverse;
                i01 = -s01 * inverse;
                i11 = s00 * inverse;
            }
        }

        var pm = estimate.PredictedMean;
        a.CopyTo(vec[8..]);
        vec.Slice(8, n).CopyTo(pm);
        Unpad(pcPad, n, estimate.PredictedCovariance);
        if (!kept)
        {
            Unpad(pcPad, n, cov);
            vec.Slice(8, n).CopyTo(mean);
            for (var j = 0; j < p; j++)
            {
                Unpad(dpmPad.Slice(16 * j, 16), n, dp.Slice(j * nn, nn));
                damPad.Slice(4 * j, n).CopyTo(da.Slice(j * n, n));
            }
        }
        else
        {
            // K' = S⁻¹ U (rows kt0, kt1); a = a⁻ + K v; Joseph form by columns as KalmanFilter's small kernel:
            // A P⁻ = P⁻ − K U (rows c0..c3), P = A P⁻ + D K' with D = K R − (A P⁻) H' or K S − U', whichever
            // KalmanFilter.KeepsFeedback takes.
            var kt0 = (i00 * u0) + (i01 * u1);
            var kt1 = (i01 * u0) + (i11 * u1);
            a += (kt0 * v0) + (kt1 * v1);
            Span<double> k4 = stackalloc double[16];
            kt0.CopyTo(k4);
            kt1.CopyTo(k4[4..]);
            u0.CopyTo(k4[8..]);
            u1.CopyTo(k4[12..]);
            var rowsK0 = k4[..4];
            var rowsK1 = k4.Slice(4, 4);
            var rowsU0 = k4.Slice(8, 4);
            var rowsU1 = k4.Slice(12, 4);
            ReadOnlySpan<double> pcRows = pcPad;
            Vector256<double> p0 = Vector256.Create(pcRows), p1 = Vector256.Create(pcRows[4..]);
            Vector256<double> p2 = Vector256.Create(pcRows[8..]), p3 = Vector256.Create(pcRows[12..]);
            ReadOnlySpan<double> hRows = hPad;
            if (m == 1)
            {
                var c0 = p0 - (kt0 * rowsU0[0]);
                var c1 = p1 - (kt0 * rowsU0[1]);
                var c2 = p2 - (kt0 * rowsU0[2]);
                var c3 = p3 - (kt0 * rowsU0[3]);
                var d0 = inner.KeepsFeedbackOneRow(KalmanFilter.LargestDiagonal(c0, c1, c2, c3), KalmanFilter.LargestDiagonal(p0, p1, p2, p3), kt0, h0)
                    ? (kt0 * r0) - ((c0 * hRows[0]) + (c1 * hRows[1]) + (c2 * hRows[2]) + (c3 * hRows[3]))
                    : (kt0 * s00) - u0;
                (c0 + (d0 * rowsK0[0])).CopyTo(work);
                (c1 + (d0 * rowsK0[1])).CopyTo(work[4..]);
                (c2 + (d0 * rowsK0[2])).CopyTo(work[8..]);
                (c3 + (d0 * rowsK0[3])).CopyTo(work[12..]);
            }
            else
            {
                var c0 = p0 - (kt0 * rowsU0[0]) - (kt1 * rowsU1[0]);
                var c1 = p1 - (kt0 * rowsU0[1]) - (kt1 * rowsU1[1]);
                var c2 = p2 - (kt0 * rowsU0[2]) - (kt1 * rowsU1[2]);
                var c3 = p3 - (kt0 * rowsU0[3]) - (kt1 * rowsU1[3]);
                Vector256<double> d0, d1;
                if (inner.KeepsFeedbackTwoRows(KalmanFilter.LargestDiagonal(c0, c1, c2, c3), KalmanFilter.LargestDiagonal(p0, p1, p2, p3), kt0, kt1, hRows))
                {
                    d0 = (kt0 * r0) + (kt1 * r01) - ((c0 * hRows[0]) + (c1 * hRows[1]) + (c2 * hRows[2]) + (c3 * hRows[3]));
                    d1 = (kt0 * r01) + (kt1 * r1) - ((c0 * hRows[4]) + (c1 * hRows[5]) + (c2 * hRows[6]) + (c3 * hRows[7]));
                }
                else
                {
                    d0 = (kt0 * s00) + (kt1 * s01) - u0;
                    d1 = (kt0 * s01) + (kt1 * s11) - u1;
                }

                (c0 + (d0 * rowsK0[0]) + (d1 * rowsK1[0])).CopyTo(work);
                (c1 + (d0 * rowsK0[1]) + (d1 * rowsK1[1])).CopyTo(work[4..]);
                (c2 + (d0 * rowsK0[2]) + (d1 * rowsK1[2])).CopyTo(work[8..]);
                (c3 + (d0 * rowsK0[3]) + (d1 * rowsK1[3])).CopyTo(work[12..]);
            }

            Symmetrize(work, pcPad);
            Unpad(pcPad, n, cov);
            a.CopyTo(vec[8..]);
            vec.Slice(8, n).CopyTo(mean);

            // Tangents: U_j = H ∂P⁻_j, ∂S_j = U_j H' + ∂R_j, ∂v_j = −H ∂a⁻_j; score; ∂a_j and ∂P_j.
            var wv0 = (i00 * v0) + (i01 * v1);
            var wv1 = (i01 * v0) + (i11 * v1);
            Span<double> g = stackalloc double[SmallMaxParameters];
            Span<double> x = stackalloc double[4 * SmallMaxParameters];
            Span<double> dv = stackalloc double[2 * SmallMaxParameters];
            Span<double> uj = stackalloc double[8];
            for (var j = 0; j < p; j++)
            {
                var pj = dpmPad.Slice(16 * j, 16);
                var aj = Vector256.Create((ReadOnlySpan<double>)damPad.Slice(4 * j, 4));
                var ua = Times(pj, hPad[..4]);
                var ub = m == 2 ? Times(pj, hPad[4..]) : default;
                var ds00 = Vector256.Sum(ua * h0);
                var ds01 = m == 2 ? Vector256.Sum(ua * h1) : 0.0;
                var ds11 = m == 2 ? Vector256.Sum(ub * h1) : 0.0;
                if (j >= rates)
                {
                    if (noise.ObservationSlot[0] == j)
                    {
                        ds00 += r0;
                    }

                    if (m == 2 && noise.ObservationSlot[1] == j)
                    {
                        ds11 += r1;
                    }
                }

                var dv0 = -Vector256.Sum(h0 * aj);
                var dv1 = m == 2 ? -Vector256.Sum(h1 * aj) : 0.0;
                dv[2 * j] = dv0;
                dv[(2 * j) + 1] = dv1;

                // X_j = S⁻¹ ∂S_j (2×2), kept for the information.
                var x00 = (i00 * ds00) + (i01 * ds01);
                var x01 = (i00 * ds01) + (i01 * ds11);
                var x10 = (i01 * ds00) + (i11 * ds01);
                var x11 = (i01 * ds01) + (i11 * ds11);
                x[4 * j] = x00;
                x[(4 * j) + 1] = x01;
                x[(4 * j) + 2] = x10;
                x[(4 * j) + 3] = x11;
                var sw0 = (ds00 * wv0) + (ds01 * wv1);
                var sw1 = (ds01 * wv0) + (ds11 * wv1);
                g[j] = (-0.5 * (x00 + x11)) + (0.5 * ((wv0 * sw0) + (wv1 * sw1))) - ((wv0 * dv0) + (wv1 * dv1));
                var t0 = dv0 - sw0;
                var t1 = dv1 - sw1;
                var newA = aj + (wv0 * ua) + (wv1 * ub) + (t0 * kt0) + (t1 * kt1);
                newA.CopyTo(work[..4]);
                work[..n].CopyTo(da.Slice(j * n, n));
                ua.CopyTo(uj);
                ub.CopyTo(uj[4..]);
                var ks0 = (ds00 * kt0) + (ds01 * kt1);
                var ks1 = (ds01 * kt0) + (ds11 * kt1);
                var target = dp.Slice(j * nn, nn);
                for (var i = 0; i < n; i++)
                {
                    var row = Vector256.Create(((ReadOnlySpan<double>)pj).Slice(4 * i, 4))
                        - (rowsK0[i] * ua) - (rowsK1[i] * ub) - (uj[i] * kt0) - (uj[4 + i] * kt1)
                        + (rowsK0[i] * ks0) + (rowsK1[i] * ks1);
                    row.CopyTo(work[..4]);
                    work[..n].CopyTo(target.Slice(i * n, n));
                }

                SymmetrizeSmall(target, n);
            }

            if (learn)
            {
                var information = ad.Slice(infoSlot, p * p);
                for (var j = 0; j < p; j++)
                {
                    for (var l = j; l < p; l++)
                    {
                        var xj = x.Slice(4 * j, 4);
                        var xl = x.Slice(4 * l, 4);
                        var trace = (xj[0] * xl[0]) + (xj[1] * xl[2]) + (xj[2] * xl[1]) + (xj[3] * xl[3]);
                        double dj0 = dv[2 * j], dj1 = dv[(2 * j) + 1], dl0 = dv[2 * l], dl1 = dv[(2 * l) + 1];
                        var quadratic = (dj0 * ((i00 * dl0) + (i01 * dl1))) + (dj1 * ((i01 * dl0) + (i11 * dl1)));
                        var value = (lambda * information[(j * p) + l]) + (0.5 * trace) + quadratic;
                        information[(j * p) + l] = value;
                        information[(l * p) + j] = value;
                    }
                }

                LearnStep(ad, values, g);
            }
        }

        KalmanFilter.CompleteStep(kf, mean, cov, n, estimate, inner.FragileVariance);
        return true;
    }

    /// <summary>r_i with the stream's learned value when it learns it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double ObservationValue(int i, ReadOnlySpan<double> values)
    {
        var slot = noise.ObservationSlot[i];
        return slot >= 0 ? values[slot] : noise.Model.ObservationNoise[(i * m) + i];
    }

    /// <summary>Σ_k x_k R_k for the rows R_k of a padded 4×4 matrix: M x when the rows are those of M'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> TimesTransposed(ReadOnlySpan<double> rows, ReadOnlySpan<double> x) =>
        (Vector256.Create(rows) * x[0]) + (Vector256.Create(rows[4..]) * x[1]) + (Vector256.Create(rows[8..]) * x[2]) + (Vector256.Create(rows[12..]) * x[3]);

    /// <summary>X h for a symmetric padded 4×4 X (its rows combined by h).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Times(ReadOnlySpan<double> x, ReadOnlySpan<double> h) => TimesTransposed(x, h);

    /// <summary>target = F X F' + Q (rows q0..q3), symmetrised; every matrix padded 4×4 row-major (F' as ft).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SandwichAdd(ReadOnlySpan<double> f, ReadOnlySpan<double> ft, ReadOnlySpan<double> x, Vector256<double> q0, Vector256<double> q1, Vector256<double> q2, Vector256<double> q3, Span<double> work, Span<double> target)
    {
        // G = X F' by rows, then F G by rows.
        var g0 = TimesTransposed(ft, x[..4]);
        var g1 = TimesTransposed(ft, x.Slice(4, 4));
        var g2 = TimesTransposed(ft, x.Slice(8, 4));
        var g3 = TimesTransposed(ft, x.Slice(12, 4));
        (q0 + (g0 * f[0]) + (g1 * f[1]) + (g2 * f[2]) + (g3 * f[3])).CopyTo(work);
        (q1 + (g0 * f[4]) + (g1 * f[5]) + (g2 * f[6]) + (g3 * f[7])).CopyTo(work[4..]);
        (q2 + (g0 * f[8]) + (g1 * f[9]) + (g2 * f[10]) + (g3 * f[11])).CopyTo(work[8..]);
        (q3 + (g0 * f[12]) + (g1 * f[13]) + (g2 * f[14]) + (g3 * f[15])).CopyTo(work[12..]);
        Symmetrize(work, target);
    }

    /// <summary>target = (X + X')/2 for padded 4×4 matrices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Symmetrize(ReadOnlySpan<double> x, Span<double> target)
    {
        for (var i = 0; i < 4; i++)
        {
            target[(i * 4) + i] = x[(i * 4) + i];
            for (var j = i + 1; j < 4; j++)
            {
                var value = 0.5 * (x[(i * 4) + j] + x[(j * 4) + i]);
                target[(i * 4) + j] = value;
                target[(j * 4) + i] = value;
            }
        }
    }

    /// <summary>X = (X + X')/2 in place for an n×n X.</summary>
    private static void SymmetrizeSmall(Span<double> x, int n)
    {
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var value = 0.5 * (x[(i * n) + j] + x[(j * n) + i]);
                x[(i * n) + j] = value;
                x[(j * n) + i] = value;
            }
        }
    }

    /// <summary>Writes an n×n matrix into a zero-padded 4×4 one.</summary>
    private static void Pad(ReadOnlySpan<double> x, int n, Span<double> padded)
    {
        if (n == 4)
        {
            x[..16].CopyTo(padded);
            return;
        }

        padded.Clear();
        for (var i = 0; i < n; i++)
        {
            x.Slice(i * n, n).CopyTo(padded.Slice(4 * i, n));
        }
    }

    /// <summary>Writes the leading n×n block of a padded 4×4 matrix.</summary>
    private static void Unpad(ReadOnlySpan<double> padded, int n, Span<double> x)
    {
        if (n == 4)
        {
            padded.CopyTo(x[..16]);
            return;
        }

        for (var i = 0; i < n; i++)
        {
            padded.Slice(4 * i, n).CopyTo(x.Slice(i * n, n));
        }
    }

    /// <summary>
    /// <see cref="Adapt"/> for recursive maximum likelihood alone, up to <see cref="FastMaxDimension"/> states and
    /// observations, without a backward record: the same algebra with every temporary on the stack, zero entries of F
    /// and H skipped, and symmetric results computed once per pair. Returns false when the prediction lost the state
    /// to rounding (nothing written).
    /// </summary>
    [SkipLocalsInit]
    private bool FastStep(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var p = this.p;
        var nn = n * n;
        var mean = kf.Slice(KalmanFilter.MeanOffset, n);
        var cov = kf.Slice(inner.CovarianceOffset, nn);
        var values = ad.Slice(valueSlot, p);
        var da = ad.Slice(daSlot, p * n);
        var dp = ad.Slice(dpSlot, p * nn);
        var pm = estimate.PredictedMean.AsSpan(0, n);
        var pc = estimate.PredictedCovariance.AsSpan(0, nn);
        Span<double> fp = stackalloc double[nn];
        Span<double> dam = stackalloc double[p * n];
        Span<double> dpm = stackalloc double[p * nn];
        if (kf[KalmanFilter.StepCountOffset] == 0.0)
        {
            mean.CopyTo(pm);
            cov.CopyTo(pc);
            da.CopyTo(dam);
            dp.CopyTo(dpm);
        }
        else
        {
            var d = Discretization(observation.TimeGap);
            var f = d[..nn];
            var c = d.Slice(2 * nn, n);

            // a⁻ = F a + c and FP = F P with zero entries of F skipped; P⁻ = FP F' + Q_fixed + Σ θ_j B_j by pairs.
            KalmanFilter.ApplySparse(f, n, n, mean, cov, c, pm, fp);
            if (hasControl && !observation.Control.IsEmpty)
            {
                AddControl(observation.Control, pm);
            }

            var qFixed = d.Slice(nn, nn);
            for (var i = 0; i < n; i++)
            {
                for (var j = i; j < n; j++)
                {
                    var acc = 0.5 * (qFixed[(i * n) + j] + qFixed[(j * n) + i]);
                    for (var rate = 0; rate < rates; rate++)
                    {
                        var b = d.Slice(((2 + rate) * nn) + n, nn);
                        acc += values[rate] * 0.5 * (b[(i * n) + j] + b[(j * n) + i]);
                    }

                    acc += RowDot(fp, f, i, j, n);
                    pc[(i * n) + j] = acc;
                    pc[(j * n) + i] = acc;
                }
            }

            if (KalmanFilter.LostInRounding(KalmanFilter.LargestVariance(pc, n), KalmanFilter.LargestVariance(cov, n), inner.RestartFloor))
            {
                return false;
            }

            if (KalmanFilter.RepairIfIndefinite(pc, n, inner.FragileVariance))
            {
                estimate.Flags |= EstimateFlags.Repaired;
            }

            // ∂a⁻ = F ∂a, ∂P⁻ = F ∂P F' (+ θ_j B_j for a rate).
            for (var j = 0; j < p; j++)
            {
                var dpj = dpm.Slice(j * nn, nn);
                KalmanFilter.ApplySparse(f, n, n, da.Slice(j * n, n), dp.Slice(j * nn, nn), default, dam.Slice(j * n, n), fp);
                var b = j < rates ? d.Slice(((2 + j) * nn) + n, nn) : default;
                var theta = j < rates ? values[j] : 0.0;
                for (var i = 0; i < n; i++)
                {
                    for (var k = i; k < n; k++)
                    {
                        var acc = RowDot(fp, f, i, k, n);
                        if (j < rates)
                        {
                            acc += theta * 0.5 * (b[(i * n) + k] + b[(k * n) + i]);
                        }

                        dpj[(i * n) + k] = acc;
                        dpj[(k * n) + i] = acc;
                    }
                }
            }
        }

        // Predictive moments of y: ŷ = H a⁻ + d, U = H P⁻, S = U H' + R.
        var h = noise.Model.Observation;
        var om = estimate.ObservationMean.AsSpan(0, m);
        var oc = estimate.ObservationCovariance.AsSpan(0, m * m);
        Span<double> u = stackalloc double[m * n];
        KalmanFilter.ApplySparse(h, m, n, pm, pc, noise.Model.ObservationOffset, om, u);
        for (var i = 0; i < m; i++)
        {
            for (var j = i; j < m; j++)
            {
                var acc = RowDot(u, h, i, j, n);
                oc[(i * m) + j] = acc;
                oc[(j * m) + i] = acc;
            }
        }

        Span<double> r = stackalloc double[m * m];
        noise.Model.ObservationNoise.CopyTo(r);
        for (var i = 0; i < m; i++)
        {
            var slot = noise.ObservationSlot[i];
            if (slot >= 0)
            {
                r[(i * m) + i] = values[slot];
            }
        }

        KalmanFilter.AddObservationNoise(oc, r, m, inner.FragileVariance, estimate);

        // Log-likelihood and NIS over every observed component, then the gate.
        Span<int> o = stackalloc int[m];
        Span<double> l = stackalloc double[m * m];
        Span<double> v = stackalloc double[m];
        Span<double> z = stackalloc double[m];
        var y = observation.Values;
        var k0 = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                o[k0++] = i;
            }
        }

        var kept = 0;
        var learn = false;
        if (k0 > 0)
        {
            for (var a = 0; a < k0; a++)
            {
                v[a] = y[o[a]] - om[o[a]];
                for (var b = 0; b <= a; b++)
                {
                    l[(a * k0) + b] = oc[(o[a] * m) + o[b]];
                }
            }

            if (!Dense.Cholesky(l[..(k0 * k0)], k0))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }
            else
            {
                Nonlinear.GaussianUpdate.Statistics(l, k0, v, z, estimate);
                if (!double.IsFinite(estimate.NormalizedInnovationSquared))
                {
                    KalmanFilter.SkipReading(estimate, k0);
                }
                else
                {
                    learn = true;
                    kept = GateComponents(o, k0, y, om, oc, m, ad.Slice(memorySlot, m), ref learn, estimate);
                }
            }
        }

        if (kept == 0)
        {
            pm.CopyTo(mean);
            pc.CopyTo(cov);
            dam.CopyTo(da);
            dpm.CopyTo(dp);
        }
        else
        {
            FastUpdate(o[..kept], kept == k0 ? l : default, y, r, om, oc, u, pm, pc, dam, dpm, mean, cov, da, dp, values, ad.Slice(infoSlot, p * p), ad.Slice(sdSlot, p), learn, estimate);
        }

        if (learn)
        {
            ad[0] += 1.0;
        }

        KalmanFilter.CompleteStep(kf, mean, cov, n, estimate, inner.FragileVariance);
        return true;
    }

    /// <summary>The update of <see cref="FastStep"/> over the kept components (see there and the class remarks).</summary>
    [SkipLocalsInit]
    private void FastUpdate(
        ReadOnlySpan<int> o,
        ReadOnlySpan<double> factor,
        ReadOnlySpan<double> y,
        ReadOnlySpan<double> r,
        ReadOnlySpan<double> om,
        ReadOnlySpan<double> oc,
        ReadOnlySpan<double> u,
        ReadOnlySpan<double> pm,
        ReadOnlySpan<double> pc,
        ReadOnlySpan<double> dam,
        ReadOnlySpan<double> dpm,
        Span<double> mean,
        Span<double> cov,
        Span<double> da,
        Span<double> dp,
        Span<double> values,
        Span<double> information,
        Span<double> deviations,
        bool learn,
        Estimate estimate)
    {
        var n = this.n;
        var m = this.m;
        var p = this.p;
        var nn = n * n;
        var k = o.Length;
        var h = noise.Model.Observation;
        Span<double> l = stackalloc double[k * k];
        if (!factor.IsEmpty)
        {
            factor[..(k * k)].CopyTo(l);
        }
        else
        {
            for (var a = 0; a < k; a++)
            {
                for (var b = 0; b <= a; b++)
                {
                    l[(a * k) + b] = oc[(o[a] * m) + o[b]];
                }
            }

            if (!Dense.Cholesky(l, k))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
                pm.CopyTo(mean);
                pc.CopyTo(cov);
                dam.CopyTo(da);
                dpm.CopyTo(dp);
                return;
            }
        }

        // K' = S⁻¹ U_o (k×n), S⁻¹ (k×k), w = S⁻¹ v.
        Span<double> kt = stackalloc double[k * n];
        Span<double> sinv = stackalloc double[k * k];
        Span<double> v = stackalloc double[k];
        Span<double> w = stackalloc double[k];
        for (var a = 0; a < k; a++)
        {
            u.Slice(o[a] * n, n).CopyTo(kt.Slice(a * n, n));
            v[a] = y[o[a]] - om[o[a]];
            w[a] = v[a];
            for (var b = 0; b < k; b++)
            {
                sinv[(a * k) + b] = a == b ? 1.0 : 0.0;
            }
        }

        Dense.CholeskySolve(l, k, kt, n);
        Dense.CholeskySolve(l, k, sinv, k);
        Dense.CholeskySolve(l, k, w, 1);

        // a = a⁻ + K v; Joseph form: A P⁻ = P⁻ − K U_o, P = A P⁻ + D K' (see KalmanFilter.JosephCovariance).
        Span<double> ap = stackalloc double[nn];
        Span<double> dk = stackalloc double[n * k];
        KalmanFilter.ApplyGain(pm, pc, kt, u, o, v, n, mean, ap);
        KalmanFilter.JosephCovariance(pc, ap, h, u, o, kt, r, oc, n, m, dk, cov);

        // Tangents: U_j = H_o ∂P⁻_j, ∂S_j = U_j H_o' + ∂R_j, ∂v_j = −H_o ∂a⁻_j; score, information, ∂a_j and ∂P_j.
        Span<double> g = stackalloc double[p];
        Span<double> x = stackalloc double[p * k * k];
        Span<double> yv = stackalloc double[p * k];
        Span<double> dvs = stackalloc double[p * k];
        Span<double> uj = stackalloc double[k * n];
        Span<double> dsj = stackalloc double[k * k];
        Span<double> t = stackalloc double[k];
        Span<double> kdsk = stackalloc double[n * k];
        for (var j = 0; j < p; j++)
        {
            var pj = dpm.Slice(j * nn, nn);
            var aj = dam.Slice(j * n, n);
            var dvj = dvs.Slice(j * k, k);
            for (var a = 0; a < k; a++)
            {
                var ha = h.Slice(o[a] * n, n);
                var row = uj.Slice(a * n, n);
                row.Clear();
                var dv = 0.0;
                for (var c = 0; c < n; c++)
                {
                    var hc = ha[c];
                    if (hc == 0.0)
                    {
                        continue;
                    }

                    dv -= hc * aj[c];
                    var prow = pj.Slice(c * n, n);
                    for (var e = 0; e < n; e++)
                    {
                        row[e] += hc * prow[e];
                    }
                }

                dvj[a] = dv;
            }

            for (var a = 0; a < k; a++)
            {
                for (var b = a; b < k; b++)
                {
                    var acc = RowDot(uj, h.Slice(o[b] * n, n), a, 0, n);
                    dsj[(a * k) + b] = acc;
                    dsj[(b * k) + a] = acc;
                }

                var i = o[a];
                if (j >= rates && noise.ObservationSlot[i] == j)
                {
                    dsj[(a * k) + a] += r[(i * m) + i];
                }
            }

            // X_j = S⁻¹ ∂S_j, Y_j = S⁻¹ ∂v_j; g_j = −½ tr X_j + ½ w' ∂S_j w − w' ∂v_j; t = ∂v_j − ∂S_j w.
            var xj = x.Slice(j * k * k, k * k);
            var yj = yv.Slice(j * k, k);
            var trace = 0.0;
            var quadratic = 0.0;
            var cross = 0.0;
            for (var a = 0; a < k; a++)
            {
                var ya = 0.0;
                var sw = 0.0;
                for (var b = 0; b < k; b++)
                {
                    var acc = 0.0;
                    for (var e = 0; e < k; e++)
                    {
                        acc += sinv[(a * k) + e] * dsj[(e * k) + b];
                    }

                    xj[(a * k) + b] = acc;
                    ya += sinv[(a * k) + b] * dvj[b];
                    sw += dsj[(a * k) + b] * w[b];
                }

                yj[a] = ya;
                trace += xj[(a * k) + a];
                t[a] = dvj[a] - sw;
                quadratic += w[a] * sw;
                cross += w[a] * dvj[a];
            }

            g[j] = (-0.5 * trace) + (0.5 * quadratic) - cross;

            // ∂a_j = ∂a⁻_j + U_j' w + K t; K ∂S_j (n×k); ∂P_j = ∂P⁻_j − K U_j − (K U_j)' + K ∂S_j K'.
            var daj = da.Slice(j * n, n);
            for (var c = 0; c < n; c++)
            {
                var acc = aj[c];
                for (var a = 0; a < k; a++)
                {
                    acc += (uj[(a * n) + c] * w[a]) + (kt[(a * n) + c] * t[a]);
                    var kds = 0.0;
                    for (var b = 0; b < k; b++)
                    {
                        kds += kt[(b * n) + c] * dsj[(b * k) + a];
                    }

                    kdsk[(c * k) + a] = kds;
                }

                daj[c] = acc;
            }

            var dpj = dp.Slice(j * nn, nn);
            for (var i = 0; i < n; i++)
            {
                for (var c = i; c < n; c++)
                {
                    var acc = pj[(i * n) + c];
                    for (var a = 0; a < k; a++)
                    {
                        acc += (kdsk[(i * k) + a] * kt[(a * n) + c]) - (kt[(a * n) + i] * uj[(a * n) + c]) - (kt[(a * n) + c] * uj[(a * n) + i]);
                    }

                    dpj[(i * n) + c] = acc;
                    dpj[(c * n) + i] = acc;
                }
            }
        }

        if (!learn)
        {
            return;
        }

        // I ← λ I + i, i_jl = ½ tr(X_j X_l) + ∂v_j' S⁻¹ ∂v_l; θ ← θ exp(clip((I + εI)⁻¹ g)).
        DiscountInformation(information, x, dvs, yv, k);
        GaussNewtonStep(information, g, deviations, values);
    }

    /// <summary>Σ_c X[i, c] B[j, c] for row-major X and B with rows of length n (X B' at (i, j)), skipping zeros of B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double RowDot(ReadOnlySpan<double> x, ReadOnlySpan<double> b, int i, int j, int n)
    {
        var xi = x.Slice(i * n, n);
        var bj = b.Slice(j * n, n);
        var acc = 0.0;
        for (var c = 0; c < n; c++)
        {
            if (bj[c] != 0.0)
            {
                acc += xi[c] * bj[c];
            }
        }

        return acc;
    }

    /// <summary>
    /// One step of the filter and of the learning once the state is determined; false when the prediction lost the
    /// state to rounding (nothing written). See the class remarks for the equations.
    /// </summary>
    [SkipLocalsInit]
    private bool Adapt(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate, Span<double> record)
    {
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var work = workLength <= StackWork ? stackalloc double[workLength] : arena.TakeUninitialized(workLength);
        var mean = kf.Slice(KalmanFilter.MeanOffset, n);
        var cov = kf.Slice(inner.CovarianceOffset, nn);
        var first = kf[KalmanFilter.StepCountOffset] == 0.0;
        var values = ad.Slice(valueSlot, p);
        var alpha = ad.Slice(alphaSlot, vb);
        var beta = ad.Slice(betaSlot, vb);
        var memory = ad.Slice(memorySlot, m);
        var da = ad.Slice(daSlot, p * n);
        var dp = ad.Slice(dpSlot, p * nn);
        var pm = estimate.PredictedMean.AsSpan(0, n);
        var pc = estimate.PredictedCovariance.AsSpan(0, nn);
        var hasRecord = !record.IsEmpty;

        var at = 0;
        var q = Take(work, ref at, nn);
        var fp = Take(work, ref at, nn);
        var rdiag = Take(work, ref at, m);
        var dam = Take(work, ref at, p * n);
        var dpm = Take(work, ref at, p * nn);
        for (var i = 0; i < m; i++)
        {
            rdiag[i] = noise.ObservationVariance(i, values, alpha, beta);
        }

        if (first)
        {
            mean.CopyTo(pm);
            cov.CopyTo(pc);
            da.CopyTo(dam);
            dp.CopyTo(dpm);
            if (hasRecord)
            {
                record.Slice((2 * n) + (2 * nn), nn).Clear();
            }
        }
        else
        {
            var d = Discretization(observation.TimeGap);
            var f = d[..nn];
            var c = d.Slice(2 * nn, n);
            d.Slice(nn, nn).CopyTo(q);
            for (var j = 0; j < rates; j++)
            {
                var theta = values[j];
                var b = d.Slice(((2 + j) * nn) + n, nn);
                for (var k = 0; k < nn; k++)
                {
                    q[k] += theta * b[k];
                }
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

            Dense.Multiply(f, n, n, cov, n, fp);
            Dense.MultiplyTransposed(fp, n, n, f, n, pc);
            for (var k = 0; k < nn; k++)
            {
                pc[k] += q[k];
            }

            Dense.Symmetrize(pc, n);
            if (KalmanFilter.LostInRounding(KalmanFilter.LargestVariance(pc, n), KalmanFilter.LargestVariance(cov, n), inner.RestartFloor))
            {
                arena.Release(mark);
                return false;
            }

            if (KalmanFilter.RepairIfIndefinite(pc, n, inner.FragileVariance))
            {
                estimate.Flags |= EstimateFlags.Repaired;
            }

            // Tangents: ∂a⁻ = F ∂a, ∂P⁻ = F ∂P F' + ∂Q (∂Q/∂φ_j = θ_j B_j for a rate, 0 for an observation variance).
            for (var j = 0; j < p; j++)
            {
                Dense.MultiplyVector(f, n, n, da.Slice(j * n, n), dam.Slice(j * n, n));
                Dense.Multiply(f, n, n, dp.Slice(j * nn, nn), n, fp);
                var target = dpm.Slice(j * nn, nn);
                Dense.MultiplyTransposed(fp, n, n, f, n, target);
                if (j < rates)
                {
                    var theta = values[j];
                    var b = d.Slice(((2 + j) * nn) + n, nn);
                    for (var k = 0; k < nn; k++)
                    {
                        target[k] += theta * b[k];
                    }
                }

                Dense.Symmetrize(target, n);
            }

            if (hasRecord)
            {
                Dense.MultiplyTransposed(cov, n, n, f, n, record.Slice((2 * n) + (2 * nn), nn));
            }
        }

        if (hasRecord)
        {
            pm.CopyTo(record.Slice(n + nn, n));
            pc.CopyTo(record.Slice((2 * n) + nn, nn));

            // A model with a diffuse start has longer records (DiffuseSmoothing); past the diffuse start they hold no
            // diffuse part.
            record[GaussianBackward.RecordLength(n)..].Clear();
        }

        // Predictive moments of y with the values learned so far.
        var h = noise.Model.Observation;
        var dOffset = noise.Model.ObservationOffset;
        var om = estimate.ObservationMean.AsSpan(0, m);
        var oc = estimate.ObservationCovariance.AsSpan(0, m * m);
        var hp = Take(work, ref at, m * n);
        Dense.MultiplyVector(h, m, n, pm, om);
        for (var i = 0; i < m; i++)
        {
            om[i] += dOffset[i];
        }

        Dense.Multiply(h, m, n, pc, n, hp);
        Dense.MultiplyTransposed(hp, m, n, h, m, oc);
        Dense.Symmetrize(oc, m);
        var r = Take(work, ref at, m * m);
        noise.Model.ObservationNoise.CopyTo(r);
        for (var i = 0; i < m; i++)
        {
            r[(i * m) + i] = rdiag[i];
        }

        KalmanFilter.AddObservationNoise(oc, r, m, inner.FragileVariance, estimate);

        // Log-likelihood and NIS over every observed component.
        Span<int> observed = stackalloc int[m];
        var y = observation.Values;
        var k0 = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[k0++] = i;
            }
        }

        var learn = k0 > 0;
        var kept = 0;
        var l = Take(work, ref at, m * m);
        var v = Take(work, ref at, m);
        var z = Take(work, ref at, m);
        if (k0 > 0)
        {
            for (var a = 0; a < k0; a++)
            {
                v[a] = y[observed[a]] - om[observed[a]];
                for (var b = 0; b < k0; b++)
                {
                    l[(a * k0) + b] = oc[(observed[a] * m) + observed[b]];
                }
            }

            if (!Dense.Cholesky(l[..(k0 * k0)], k0))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
                learn = false;
            }
            else
            {
                Nonlinear.GaussianUpdate.Statistics(l, k0, v, z, estimate);
                if (!double.IsFinite(estimate.NormalizedInnovationSquared))
                {
                    KalmanFilter.SkipReading(estimate, k0);
                    learn = false;
                }
                else
                {
                    kept = GateComponents(observed, k0, y, om, oc, m, memory, ref learn, estimate);
                }
            }
        }

        if (kept == 0)
        {
            pm.CopyTo(mean);
            pc.CopyTo(cov);
            dam.CopyTo(da);
            dpm.CopyTo(dp);
        }
        else
        {
            Update(work[at..], observed[..kept], y, r, om, oc, hp, pm, pc, mean, cov, dam, dpm, da, dp, ad, learn, estimate);
        }

        KalmanFilter.CompleteStep(kf, mean, cov, n, estimate, inner.FragileVariance);
        if (hasRecord)
        {
            mean.CopyTo(record[..n]);
            cov.CopyTo(record.Slice(n, nn));
        }

        arena.Release(mark);
        return true;
    }

    /// <summary>
    /// The update over the kept components <paramref name="o"/> (R_prev = <paramref name="r"/> gave the predictive
    /// moments), the variational iterations, the tangents and the Gauss–Newton step.
    /// </summary>
    private void Update(
        Span<double> work,
        ReadOnlySpan<int> o,
        ReadOnlySpan<double> y,
        ReadOnlySpan<double> r,
        ReadOnlySpan<double> om,
        ReadOnlySpan<double> oc,
        ReadOnlySpan<double> hp,
        ReadOnlySpan<double> pm,
        ReadOnlySpan<double> pc,
        Span<double> mean,
        Span<double> cov,
        ReadOnlySpan<double> dam,
        ReadOnlySpan<double> dpm,
        Span<double> da,
        Span<double> dp,
        Span<double> ad,
        bool learn,
        Estimate estimate)
    {
        var nn = n * n;
        var k = o.Length;
        var h = noise.Model.Observation;
        var at = 0;
        var s = Take(work, ref at, k * k);
        var l = Take(work, ref at, k * k);
        var kt = Take(work, ref at, k * n);
        var v = Take(work, ref at, k);
        var ho = Take(work, ref at, k * n);
        var ap = Take(work, ref at, nn);
        var dk = Take(work, ref at, n * k);
        var su = Take(work, ref at, m * m);
        var ru = Take(work, ref at, m * m);
        var alpha = ad.Slice(alphaSlot, vb);
        var beta = ad.Slice(betaSlot, vb);
        var variational = vb > 0 && learn;
        r.CopyTo(ru);
        for (var a = 0; a < k; a++)
        {
            v[a] = y[o[a]] - om[o[a]];
            h.Slice(o[a] * n, n).CopyTo(ho.Slice(a * n, n));
        }

        Span<double> scaleBefore = stackalloc double[vb];
        if (variational)
        {
            // α = λα + ½ and β⁻ = λβ for the kept variational components; the first iteration uses r_i = β⁻/α.
            foreach (var i in o)
            {
                if (noise.Modes[i] == LinearNoiseParameters.ObservationMode.VariationalBayes)
                {
                    var slot = noise.ObservationSlot[i];
                    alpha[slot] = (lambda * alpha[slot]) + 0.5;
                    beta[slot] *= lambda;
                    ru[(i * m) + i] = beta[slot] / alpha[slot];
                }
            }

            beta.CopyTo(scaleBefore);
        }

        var iterations = variational ? settings.Iterations : 1;
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            // S = (H P⁻ H')_oo + R_oo (also in su, m×m, for the Joseph form); K' = S⁻¹ H_o P⁻; a = a⁻ + K v; P in
            // Joseph form as KalmanFilter's general kernel has it.
            for (var a = 0; a < k; a++)
            {
                for (var b = 0; b < k; b++)
                {
                    var index = (o[a] * m) + o[b];
                    s[(a * k) + b] = oc[index] - r[index] + ru[index];
                    su[index] = s[(a * k) + b];
                }

                hp.Slice(o[a] * n, n).CopyTo(kt.Slice(a * n, n));
            }

            s.CopyTo(l);
            if (!Dense.Cholesky(l, k))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
                pm.CopyTo(mean);
                pc.CopyTo(cov);
                dam.CopyTo(da);
                dpm.CopyTo(dp);
                return;
            }

            Dense.CholeskySolve(l, k, kt, n);
            KalmanFilter.ApplyGain(pm, pc, kt, hp, o, v, n, mean, ap);
            KalmanFilter.JosephCovariance(pc, ap, h, hp, o, kt, ru, su, n, m, dk, cov);
            if (!variational)
            {
                break;
            }

            // β = β⁻ + ½ (y − H a − d)_i² + ½ (H P H')_ii, and r_i = β/α for the next iteration.
            foreach (var i in o)
            {
                if (noise.Modes[i] != LinearNoiseParameters.ObservationMode.VariationalBayes)
                {
                    continue;
                }

                var slot = noise.ObservationSlot[i];
                var row = h.Slice(i * n, n);
                var fitted = noise.Model.ObservationOffset[i];
                var hph = 0.0;
                for (var c = 0; c < n; c++)
                {
                    fitted += row[c] * mean[c];
                    var acc = 0.0;
                    for (var e = 0; e < n; e++)
                    {
                        acc += cov[(c * n) + e] * row[e];
                    }

                    hph += row[c] * acc;
                }

                var residual = y[i] - fitted;
                beta[slot] = scaleBefore[slot] + (0.5 * ((residual * residual) + hph));
                ru[(i * m) + i] = beta[slot] / alpha[slot];
            }
        }

        if (p > 0)
        {
            Tangents(work[at..], o, ho, s, l, kt, v, ru, dam, dpm, da, dp, ad, learn);
        }

        if (learn)
        {
            ad[0] += 1.0;
        }
    }

    /// <summary>
    /// The tangent filter and, when <paramref name="learn"/>, the score, the discounted information and the
    /// Gauss–Newton step (see the class remarks). With w = S⁻¹ v, U_j = H_o ∂P⁻_j, ∂S_j = U_j H_o' + ∂R_j and
    /// ∂v_j = −H_o ∂a⁻_j: ∂a_j = ∂a⁻_j + U_j' w + K (∂v_j − ∂S_j w) and ∂P_j = ∂P⁻_j − K U_j − (K U_j)' + K ∂S_j K'.
    /// </summary>
    private void Tangents(
        Span<double> work,
        ReadOnlySpan<int> o,
        ReadOnlySpan<double> ho,
        ReadOnlySpan<double> s,
        ReadOnlySpan<double> l,
        ReadOnlySpan<double> kt,
        ReadOnlySpan<double> v,
        ReadOnlySpan<double> ru,
        ReadOnlySpan<double> dam,
        ReadOnlySpan<double> dpm,
        Span<double> da,
        Span<double> dp,
        Span<double> ad,
        bool learn)
    {
        var nn = n * n;
        var k = o.Length;
        var at = 0;
        var sinv = Take(work, ref at, k * k);
        var w = Take(work, ref at, k);
        var u = Take(work, ref at, p * k * n);
        var ds = Take(work, ref at, p * k * k);
        var dv = Take(work, ref at, p * k);
        var x = Take(work, ref at, p * k * k);
        var yv = Take(work, ref at, p * k);
        var g = Take(work, ref at, p);
        var ku = Take(work, ref at, nn);
        var t = Take(work, ref at, k);
        var kdsk = Take(work, ref at, n * k);
        s.CopyTo(sinv);
        Dense.InvertSymmetricPositiveDefinite(sinv, k);
        Dense.MultiplyVector(sinv, k, k, v, w);
        for (var j = 0; j < p; j++)
        {
            var uj = u.Slice(j * k * n, k * n);
            var dsj = ds.Slice(j * k * k, k * k);
            var dvj = dv.Slice(j * k, k);
            var pj = dpm.Slice(j * nn, nn);
            var aj = dam.Slice(j * n, n);
            Dense.Multiply(ho, k, n, pj, n, uj);
            Dense.MultiplyTransposed(uj, k, n, ho, k, dsj);
            if (j >= rates)
            {
                // ∂R/∂(log r_i) = r_i e_i e_i' for the variance this parameter carries, if kept.
                for (var a = 0; a < k; a++)
                {
                    var i = o[a];
                    if (noise.Modes[i] == LinearNoiseParameters.ObservationMode.RecursiveMaximumLikelihood && noise.ObservationSlot[i] == j)
                    {
                        dsj[(a * k) + a] += ru[(i * m) + i];
                    }
                }
            }

            Dense.Symmetrize(dsj, k);
            for (var a = 0; a < k; a++)
            {
                var acc = 0.0;
                for (var c = 0; c < n; c++)
                {
                    acc += ho[(a * n) + c] * aj[c];
                }

                dvj[a] = -acc;
            }

            var xj = x.Slice(j * k * k, k * k);
            Dense.Multiply(sinv, k, k, dsj, k, xj);
            Dense.MultiplyVector(sinv, k, k, dvj, yv.Slice(j * k, k));
            var trace = 0.0;
            var quadratic = 0.0;
            var cross = 0.0;
            for (var a = 0; a < k; a++)
            {
                trace += xj[(a * k) + a];
                var acc = 0.0;
                for (var b = 0; b < k; b++)
                {
                    acc += dsj[(a * k) + b] * w[b];
                }

                t[a] = dvj[a] - acc;
                quadratic += w[a] * acc;
                cross += w[a] * dvj[a];
            }

            g[j] = (-0.5 * trace) + (0.5 * quadratic) - cross;

            // ∂a_j = ∂a⁻_j + U_j' w + K (∂v_j − ∂S_j w).
            var daj = da.Slice(j * n, n);
            for (var c = 0; c < n; c++)
            {
                var acc = aj[c];
                for (var a = 0; a < k; a++)
                {
                    acc += (uj[(a * n) + c] * w[a]) + (kt[(a * n) + c] * t[a]);
                }

                daj[c] = acc;
            }

            // ∂P_j = ∂P⁻_j − K U_j − (K U_j)' + K ∂S_j K'.
            Dense.TransposedMultiply(kt, k, n, uj, n, ku);
            Dense.TransposedMultiply(kt, k, n, dsj, k, kdsk);
            var dpj = dp.Slice(j * nn, nn);
            for (var i = 0; i < n; i++)
            {
                for (var c = i; c < n; c++)
                {
                    var acc = pj[(i * n) + c] - ku[(i * n) + c] - ku[(c * n) + i];
                    for (var a = 0; a < k; a++)
                    {
                        acc += kdsk[(i * k) + a] * kt[(a * n) + c];
                    }

                    dpj[(i * n) + c] = acc;
                    dpj[(c * n) + i] = acc;
                }
            }
        }

        if (!learn)
        {
            return;
        }

        // I ← λ I + i with i_jl = ½ tr(X_j X_l) + ∂v_j' S⁻¹ ∂v_l; then φ ← φ + clip((I + εI)⁻¹ g).
        var information = ad.Slice(infoSlot, p * p);
        DiscountInformation(information, x, dv, yv, k);
        GaussNewtonStep(information, g, ad.Slice(sdSlot, p), ad.Slice(valueSlot, p));
    }

    /// <summary>
    /// I ← λ I + i over the k kept components, i_jl = ½ tr(X_j X_l) + ∂v_j' Y_l with X_j = S⁻¹ ∂S_j (k×k, row-major,
    /// one after another in <paramref name="x"/>) and Y_l = S⁻¹ ∂v_l (k each in <paramref name="yv"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void DiscountInformation(Span<double> information, ReadOnlySpan<double> x, ReadOnlySpan<double> dv, ReadOnlySpan<double> yv, int k)
    {
        for (var j = 0; j < p; j++)
        {
            var xj = x.Slice(j * k * k, k * k);
            var dvj = dv.Slice(j * k, k);
            for (var c = j; c < p; c++)
            {
                var xc = x.Slice(c * k * k, k * k);
                var yc = yv.Slice(c * k, k);
                var acc = 0.0;
                for (var a = 0; a < k; a++)
                {
                    for (var b = 0; b < k; b++)
                    {
                        acc += 0.5 * xj[(a * k) + b] * xc[(b * k) + a];
                    }

                    acc += dvj[a] * yc[a];
                }

                information[(j * p) + c] = (lambda * information[(j * p) + c]) + acc;
                information[(c * p) + j] = information[(j * p) + c];
            }
        }
    }

    private void AddControl(ReadOnlySpan<double> control, Span<double> pm)
    {
        var b = noise.Model.Control;
        var u = noise.Model.ControlDimension;
        for (var i = 0; i < n; i++)
        {
            var acc = 0.0;
            for (var j = 0; j < u; j++)
            {
                if (double.IsFinite(control[j]))
                {
                    acc += b[(i * u) + j] * control[j];
                }
            }

            pm[i] += acc;
        }
    }

    private static Span<double> Take(Span<double> buffer, ref int position, int length)
    {
        var slice = buffer.Slice(position, length);
        position += length;
        return slice;
    }
}
