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
public sealed class AdaptiveKalmanFilter : IEstimator, IBackwardStep, IParameterLearner
{
    private const double Ridge = 1e-3;

    private readonly KalmanFilter inner;
    private readonly LinearNoiseParameters noise;
    private readonly AdaptationSettings settings;
    private readonly int n;
    private readonly int m;
    private readonly int p;
    private readonly int rates;
    private readonly int vb;
    private readonly int kfLength;
    private readonly int phiSlot;
    private readonly int alphaSlot;
    private readonly int betaSlot;
    private readonly int memorySlot;
    private readonly int daSlot;
    private readonly int dpSlot;
    private readonly int infoSlot;
    private readonly double lambda;
    private readonly double gateSquared;
    private readonly double maxStep;
    private readonly int discretizationLength;
    private readonly double[]? timeInvariant;
    private readonly bool hasControl;
    private readonly int workLength;

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
        phiSlot = 1;
        alphaSlot = phiSlot + p;
        betaSlot = alphaSlot + vb;
        memorySlot = betaSlot + vb;
        daSlot = memorySlot + m;
        dpSlot = daSlot + (p * n);
        infoSlot = dpSlot + (p * n * n);
        lambda = settings.Forgetting;
        gateSquared = settings.GateSquared;
        maxStep = settings.MaxStep;
        hasControl = noise.Model.ControlDimension > 0;
        discretizationLength = ((2 + rates) * n * n) + n;
        if (noise.FixedDynamics.IsTimeInvariant && noise.Bases.All(b => b.IsTimeInvariant))
        {
            timeInvariant = new double[discretizationLength];
            Discretize(1.0, timeInvariant);
        }

        var nn = n * n;
        // Adapt, then Update, then Tangents (k ≤ m observed components).
        workLength = (2 * nn) + (p * (n + nn)) + (m * n) + (2 * m * m) + (3 * m)
            + (3 * m * m) + (4 * m * n) + m + nn
            + (m * m) + (2 * m) + (p * ((m * n) + (2 * m * m) + (2 * m) + 1)) + (p * p) + nn + (n * m);
        var i = inner.Info;
        Info = new EstimatorInfo
        {
            Family = i.Family,
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = i.ControlDimension,
            StateLength = kfLength + infoSlot + (p * p),
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
        inner.Initialize(state[..kfLength], seed);
        var ad = state[kfLength..Info.StateLength];
        ad.Clear();
        noise.Start(ad.Slice(phiSlot, p), ad.Slice(alphaSlot, vb), ad.Slice(betaSlot, vb), settings.PriorWeight);
    }

    /// <inheritdoc />
    public void StartFrom(Span<double> state, ReadOnlySpan<double> values)
    {
        var ad = state[kfLength..Info.StateLength];
        noise.StartFrom(values, ad.Slice(phiSlot, p), ad.Slice(alphaSlot, vb), ad.Slice(betaSlot, vb));
    }

    /// <inheritdoc />
    public void ReadParameters(ReadOnlySpan<double> state, Span<double> values, Span<double> deviations)
    {
        var ad = state[kfLength..Info.StateLength];
        Span<double> sd = stackalloc double[Math.Max(p, 1)];
        LogDeviations(ad, sd);
        noise.Write(ad.Slice(phiSlot, p), sd, ad.Slice(alphaSlot, vb), ad.Slice(betaSlot, vb), values, deviations);
    }

    /// <summary>Readings a stream has learned from (outliers, missing readings and the diffuse start excluded).</summary>
    internal double LearnedReadings(ReadOnlySpan<double> state) => state[kfLength];

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        var kf = state[..kfLength];
        var ad = state[kfLength..Info.StateLength];
        if (KalmanFilter.IsStillDiffuse(kf) || !Adapt(kf, ad, observation, estimate, backwardRecord))
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
            // A non-finite state: back to the prior, reported as KalmanFilter reports it.
            inner.Initialize(kf, 0);
            ClearTangents(ad);
            estimate.LogLikelihood = double.NaN;
            estimate.NormalizedInnovationSquared = double.NaN;
            inner.ReadState(kf, estimate.StateMean, estimate.StateCovariance);
        }

        ReadParameters(state, estimate.Parameters, estimate.ParameterDeviations);
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
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
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance) =>
        inner.ReadState(state[..kfLength], mean, covariance);

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message) => inner.StartBackward(record, message);

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message) =>
        inner.Backward(record, nextRecord, message);

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance) =>
        inner.ReadSmoothed(record, message, mean, covariance);

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
        var phi = ad.Slice(phiSlot, p);
        var alpha = ad.Slice(alphaSlot, vb);
        var beta = ad.Slice(betaSlot, vb);
        for (var i = 0; i < m; i++)
        {
            r[(i * m) + i] = noise.ObservationVariance(i, phi, alpha, beta);
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
            var theta = Math.Exp(phi[j]);
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
    }

    private void ClearTangents(Span<double> ad)
    {
        ad.Slice(memorySlot, m).Clear();
        ad.Slice(daSlot, infoSlot - daSlot).Clear();
    }

    /// <summary>sd(φ_j) = √((I + εI)⁻¹)_jj, NaN before any information.</summary>
    private void LogDeviations(ReadOnlySpan<double> ad, Span<double> sd)
    {
        if (p == 0)
        {
            return;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var a = arena.Take(p * p);
        if (!Regularize(ad.Slice(infoSlot, p * p), a) || !Dense.InvertSymmetricPositiveDefinite(a, p))
        {
            sd[..p].Fill(double.NaN);
        }
        else
        {
            for (var j = 0; j < p; j++)
            {
                sd[j] = Math.Sqrt(a[(j * p) + j]);
            }
        }

        arena.Release(mark);
    }

    /// <summary>I + εI with ε = 10⁻³ tr(I)/p; false when I carries no information yet.</summary>
    private bool Regularize(ReadOnlySpan<double> information, Span<double> target)
    {
        information.CopyTo(target);
        var trace = 0.0;
        for (var j = 0; j < p; j++)
        {
            trace += information[(j * p) + j];
        }

        if (!(trace > 0.0) || !double.IsFinite(trace))
        {
            return false;
        }

        var ridge = Ridge * trace / p;
        for (var j = 0; j < p; j++)
        {
            target[(j * p) + j] += ridge;
        }

        return true;
    }

    /// <summary>
    /// One step of the filter and of the learning once the state is determined; false when the prediction lost the
    /// state to rounding (nothing written). See the class remarks for the equations.
    /// </summary>
    private bool Adapt(Span<double> kf, Span<double> ad, in Observation observation, Estimate estimate, Span<double> record)
    {
        estimate.Reset();
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var work = arena.TakeUninitialized(workLength);
        var mean = kf.Slice(KalmanFilter.MeanOffset, n);
        var cov = kf.Slice(inner.CovarianceOffset, nn);
        var first = kf[KalmanFilter.StepCountOffset] == 0.0;
        var phi = ad.Slice(phiSlot, p);
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
            rdiag[i] = noise.ObservationVariance(i, phi, alpha, beta);
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
                var theta = Math.Exp(phi[j]);
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
            if (KalmanFilter.LostInRounding(KalmanFilter.LargestVariance(pc, n), KalmanFilter.LargestVariance(cov, n)))
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
                    var theta = Math.Exp(phi[j]);
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
                    // The gate: a component beyond it stops learning from this reading; it is rejected from the
                    // update unless the previous reading of that component was rejected too.
                    for (var a = 0; a < k0; a++)
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

        mean.CopyTo(estimate.StateMean);
        cov.CopyTo(estimate.StateCovariance);
        kf[KalmanFilter.StepCountOffset] += 1.0;
        KalmanFilter.CheckUpdatedState(mean, cov, n, estimate, inner.FragileVariance);
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
        var wk = Take(work, ref at, n * k);
        var kr = Take(work, ref at, n * k);
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
            // S = (H P⁻ H')_oo + R_oo; K' = S⁻¹ H_o P⁻; a = a⁻ + K v; P in Joseph form.
            for (var a = 0; a < k; a++)
            {
                for (var b = 0; b < k; b++)
                {
                    var index = (o[a] * m) + o[b];
                    s[(a * k) + b] = oc[index] - r[index] + ru[index];
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
            for (var i = 0; i < n; i++)
            {
                var acc = pm[i];
                for (var a = 0; a < k; a++)
                {
                    acc += kt[(a * n) + i] * v[a];
                }

                mean[i] = acc;
            }

            Joseph(o, ru, hp, pc, kt, ap, wk, kr, cov);
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

    /// <summary>P = (I − K H_o) P⁻ (I − K H_o)' + K R_oo K' with A = I − K H_o kept implicit:
    /// A P⁻ = P⁻ − K U_o (U = H P⁻), W = (A P⁻) H_o', P = A P⁻ − W K' + (K R_oo) K', symmetric by construction.</summary>
    private void Joseph(ReadOnlySpan<int> o, ReadOnlySpan<double> r, ReadOnlySpan<double> hp, ReadOnlySpan<double> pc, ReadOnlySpan<double> kt, Span<double> ap, Span<double> wk, Span<double> kr, Span<double> cov)
    {
        var k = o.Length;
        var h = noise.Model.Observation;
        pc.CopyTo(ap);
        for (var a = 0; a < k; a++)
        {
            var ua = hp.Slice(o[a] * n, n);
            var kta = kt.Slice(a * n, n);
            for (var i = 0; i < n; i++)
            {
                var kai = kta[i];
                var row = ap.Slice(i * n, n);
                for (var j = 0; j < n; j++)
                {
                    row[j] -= kai * ua[j];
                }
            }
        }

        for (var a = 0; a < k; a++)
        {
            var ha = h.Slice(o[a] * n, n);
            for (var i = 0; i < n; i++)
            {
                var row = ap.Slice(i * n, n);
                var acc = 0.0;
                for (var j = 0; j < n; j++)
                {
                    acc += row[j] * ha[j];
                }

                wk[(i * k) + a] = acc;
                var kra = 0.0;
                for (var b = 0; b < k; b++)
                {
                    kra += kt[(b * n) + i] * r[(o[b] * m) + o[a]];
                }

                kr[(i * k) + a] = kra;
            }
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = i; j < n; j++)
            {
                var acc = ap[(i * n) + j];
                for (var a = 0; a < k; a++)
                {
                    acc += (kr[(i * k) + a] - wk[(i * k) + a]) * kt[(a * n) + j];
                }

                cov[(i * n) + j] = acc;
                cov[(j * n) + i] = acc;
            }
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
        var step = Take(work, ref at, p * p);
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

        if (!Regularize(information, step) || !Dense.Cholesky(step, p))
        {
            return;
        }

        Dense.CholeskySolve(step, p, g, 1);
        var phi = ad.Slice(phiSlot, p);
        for (var j = 0; j < p; j++)
        {
            var delta = g[j];
            if (double.IsFinite(delta))
            {
                phi[j] += Math.Clamp(delta, -maxStep, maxStep);
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
