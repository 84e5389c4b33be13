using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// The unscented Kalman filter for a <see cref="NonlinearGaussianModel"/>, with Merwe or Julier sigma points,
/// missing components, forecasts by the unscented transform, and the unscented Rauch–Tung–Striebel backward step
/// (Särkkä 2008).
/// </summary>
/// <remarks>
/// <para>Predict: sigma points σ_i from (a_{t-1}, P_{t-1}) (see <see cref="SigmaPoints"/>), χ_i = f(σ_i),
/// a⁻ = Σ W^m_i χ_i, P⁻ = Σ W^c_i (χ_i − a⁻)(χ_i − a⁻)' + Q(Δt). The sigma points are then drawn again from
/// (a⁻, P⁻) and pushed through h: Z_i = h(σ⁻_i), ŷ = Σ W^m_i Z_i, S = Σ W^c_i (Z_i − ŷ)(Z_i − ŷ)' + R,
/// P_xz = Σ W^c_i (σ⁻_i − a⁻)(Z_i − ŷ)'. Update over the observed rows o: K = P_xz,o S_oo⁻¹, a = a⁻ + K (y_o − ŷ_o),
/// P = P⁻ − K S_oo K'; log p(y_t | y_{1:t-1}) = log N(y_o; ŷ_o, S_oo) and NIS = v' S_oo⁻¹ v. This is FilterPy
/// 1.4.5's <c>UnscentedKalmanFilter</c> step for step.</para>
/// <para>Smoothing: the forward record stores C_t = Σ W^c_i (σ_i − a_{t-1})(χ_i − a⁻_t)' = Cov(x_{t-1}, x_t | y_{1:t-1})
/// from the prediction, so <see cref="GaussianBackward"/> gives the unscented RTS smoother with
/// G = C_{t+1} (P⁻_{t+1})⁻¹, and <see cref="Smoothing.FixedLagSmoother"/> works unchanged.</para>
/// <para>Forecasts repeat the prediction (unscented transform through f plus Q) and push each forecast through h with
/// freshly drawn points.</para>
/// <para><b>Numerics.</b> With <c>robust</c> (the default) the weighted means use the centred form
/// X_0 + Σ_{i≥1} W_i (X_i − X_0), which avoids the cancellation of weights near ±10⁶ that small α produces; P⁻ and
/// P are symmetrised; and when a covariance has no Cholesky factor (FilterPy's "not positive definite" error) it
/// is repaired by clipping negative eigenvalues and the points are drawn from its eigen square root
/// (<see cref="EstimateFlags.Repaired"/>). Without <c>robust</c> the arithmetic follows FilterPy's formulas and
/// order of operations (plain weighted sums, no symmetrisation) and a failed factorisation re-initialises the
/// stream.</para>
/// <para>Guard rails: a non-finite mean or covariance, or a covariance without any square root, re-initialises the
/// stream from the prior with this reading as the first (<see cref="EstimateFlags.Reinitialized"/>; the step index keeps
/// counting), or leaves it at the prior when that first step fails too (the step reports the prior); an innovation
/// covariance that is not positive definite skips the update (<see cref="EstimateFlags.ObservationSkipped"/>).</para>
/// </remarks>
public sealed class UnscentedKalmanFilter : IEstimator, IBackwardStep, IObservationNoiseOverride, IRestartRecords, INonlinearStep
{
    private readonly NonlinearGaussianModel model;
    private readonly int n;
    private readonly int m;
    private readonly int count;
    private readonly double spread;
    private readonly double[] meanWeights;
    private readonly double[] covarianceWeights;
    private readonly double[] observationNoise;
    private readonly int workspaceLength;

    /// <summary>Creates the filter.</summary>
    /// <param name="model">The model.</param>
    /// <param name="sigmaPoints">The sigma-point set; default Merwe with α = 1, β = 2, κ = 0.</param>
    /// <param name="robust">Centred means, symmetrisation and covariance repair (see remarks); false reproduces
    /// FilterPy's arithmetic.</param>
    /// <param name="family">Family name written into output records.</param>
    public UnscentedKalmanFilter(NonlinearGaussianModel model, SigmaPoints? sigmaPoints = null, bool robust = true, string family = "ukf")
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        n = model.StateDimension;
        m = model.ObservationDimension;
        SigmaPoints = sigmaPoints ?? SigmaPoints.Merwe();
        SigmaPoints.ValidateFor(n);
        Robust = robust;
        count = SigmaPoints.Count(n);
        spread = SigmaPoints.Spread(n);
        meanWeights = new double[count];
        covarianceWeights = new double[count];
        SigmaPoints.Weights(n, meanWeights, covarianceWeights);
        observationNoise = model.ObservationNoise.ToArray();
        workspaceLength = Workspace.Length(n, m, count);
        Info = new EstimatorInfo
        {
            Family = family,
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = model.ControlDimension,
            StateLength = NonlinearState.Length(n),
            BackwardRecordLength = GaussianBackward.RecordLength(n),
            SmoothingMessageLength = GaussianBackward.MessageLength(n),
            UsesTimeGap = model.UsesTimeGap,
        };
    }

    /// <summary>The model parameters.</summary>
    public NonlinearGaussianModel Model => model;

    /// <summary>The sigma-point set.</summary>
    public SigmaPoints SigmaPoints { get; }

    /// <summary>True for the robust numerics (see remarks).</summary>
    public bool Robust { get; }

    /// <summary>The mean weights W^m.</summary>
    public ReadOnlySpan<double> MeanWeights => meanWeights;

    /// <summary>The covariance weights W^c.</summary>
    public ReadOnlySpan<double> CovarianceWeights => covarianceWeights;

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        NonlinearState.SetSteps(state, 0);
        NonlinearState.LoadPrior(state, model);
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        StepWithNoise(state, observation, estimate, backwardRecord, observationNoise);
    }

    /// <inheritdoc />
    public void StepWithNoise(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord, ReadOnlySpan<double> r)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        SpanChecks.Noise(r, Info);
        NonlinearState.StepRestarting(this, state, observation, estimate, backwardRecord, r);
    }

    /// <summary>
    /// After a re-initialised step: true when the stream restarted from the prior with the reading assimilated as a
    /// first step, so its record is the first of the new stretch and the next step predicts from it; false when the
    /// state was left at the prior (the next reading is the stretch's first).
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => !NonlinearState.PriorPending(state);

    void INonlinearStep.StepOnce(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord, ReadOnlySpan<double> r)
    {
        estimate.Reset();
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var work = new Workspace(arena.Take(workspaceLength), n, m, count);
        var steps = NonlinearState.Steps(state);
        var mean = NonlinearState.Mean(state, n);
        var cov = NonlinearState.Covariance(state, n);
        var pm = estimate.PredictedMean.AsSpan();
        var pc = estimate.PredictedCovariance.AsSpan();
        var om = estimate.ObservationMean.AsSpan();
        var oc = estimate.ObservationCovariance.AsSpan();
        var hasRecord = !backwardRecord.IsEmpty;
        var cross = hasRecord ? backwardRecord.Slice((2 * n) + (2 * nn), nn) : default;
        var ok = true;
        bool repaired;

        if (NonlinearState.PriorPending(state) && !model.PriorAtTimeZero)
        {
            if (model.ControlledPrior is { } prior && !prior(observation.Control, mean, cov))
            {
                NonlinearState.LoadPrior(state, model);
            }

            mean.CopyTo(pm);
            cov.CopyTo(pc);
            cross.Clear();
        }
        else
        {
            var gap = steps == 0 ? 1.0 : observation.TimeGap;
            ok = UnscentedTransform.Draw(mean, cov, n, spread, work.Sigma, Robust, work.Root, out repaired);
            if (ok)
            {
                if (hasRecord)
                {
                    // σ_i − a_{t-1}, kept for the cross-covariance with the propagated points.
                    UnscentedTransform.Residuals(work.Sigma, count, n, mean, work.SigmaResiduals);
                }

                Propagate(new TransitionContext(gap, steps + 1, observation.Control), gap, work, pm, pc);
                if (hasRecord)
                {
                    UnscentedTransform.CrossCovariance(work.SigmaResiduals, n, work.Residuals, n, count, covarianceWeights, cross);
                }
            }

            if (repaired)
            {
                estimate.Flags |= EstimateFlags.Repaired;
            }
        }

        state[NonlinearState.PendingSlot] = 0.0;
        if (ok)
        {
            // FilterPy draws the points again from the predicted moments before the update.
            ok = ObservationMoments(pm, pc, work, om, oc, r, Robust, out repaired);
            if (repaired)
            {
                estimate.Flags |= EstimateFlags.Repaired;
            }
        }

        if (ok)
        {
            UnscentedTransform.Residuals(work.Sigma, count, n, pm, work.Residuals);
            UnscentedTransform.CrossCovariance(work.Residuals, n, work.ObservationResiduals, m, count, covarianceWeights, work.CrossCovariance);
            pm.CopyTo(mean);
            pc.CopyTo(cov);
            Span<int> observed = stackalloc int[m];
            var k = GaussianUpdate.Observed(observation.Values, observed);
            if (k > 0 && !GaussianUpdate.CrossCovariance(n, m, mean, cov, work.CrossCovariance, om, oc, observation.Values, observed[..k], estimate))
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }

            if (Robust)
            {
                Dense.Symmetrize(cov, n);
                if (Dense.AllFinite(cov) && !Dense.LooksPositiveSemiDefinite(cov, n))
                {
                    Dense.RepairCovariance(cov, n);
                    estimate.Flags |= EstimateFlags.Repaired;
                }
            }
        }

        NonlinearState.SetSteps(state, steps + 1);
        if (!ok || !Dense.AllFinite(mean) || !Dense.AllFinite(cov))
        {
            // Re-initialise from the prior; the step reports the prior and its observation moments.
            estimate.Flags |= EstimateFlags.Reinitialized;
            NonlinearState.LoadPrior(state, model);
            estimate.LogLikelihood = double.NaN;
            estimate.NormalizedInnovationSquared = double.NaN;
            estimate.ObservedCount = 0;
            mean.CopyTo(pm);
            cov.CopyTo(pc);
            ObservationMoments(pm, pc, work, om, oc, r, repair: true, out _);
            cross.Clear();
        }

        mean.CopyTo(estimate.StateMean);
        cov.CopyTo(estimate.StateCovariance);
        if (hasRecord)
        {
            mean.CopyTo(backwardRecord[..n]);
            cov.CopyTo(backwardRecord.Slice(n, nn));
            pm.CopyTo(backwardRecord.Slice(n + nn, n));
            pc.CopyTo(backwardRecord.Slice((2 * n) + nn, nn));
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        ForecastWithNoise(state, stepGap, forecast, observationNoise);
    }

    /// <inheritdoc />
    public void ForecastWithNoise(ReadOnlySpan<double> state, double stepGap, Forecast forecast, ReadOnlySpan<double> r)
    {
        SpanChecks.Forecast(state, forecast, Info);
        SpanChecks.Noise(r, Info);
        var nn = n * n;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var work = new Workspace(arena.Take(workspaceLength), n, m, count);
        var a = arena.Take(n);
        var p = arena.Take(nn);
        NonlinearState.Mean(state, n).CopyTo(a);
        NonlinearState.Covariance(state, n).CopyTo(p);
        var held = NonlinearState.HeldIndex(state, model);
        for (var k = 1; k <= forecast.MaxHorizon; k++)
        {
            var next = forecast.StateMeanAt(k);
            var nextCov = forecast.StateCovarianceAt(k);

            // A forecast never changes the stream, so a covariance without a Cholesky factor is always repaired here
            // (the state was checked finite by the last step, so a square root exists).
            UnscentedTransform.Draw(a, p, n, spread, work.Sigma, repair: true, work.Root, out _);
            Propagate(new TransitionContext(stepGap, held + k), stepGap, work, next, nextCov);
            next.CopyTo(a);
            nextCov.CopyTo(p);
            ObservationMoments(a, p, work, forecast.ObservationMeanAt(k), forecast.ObservationCovarianceAt(k), r, repair: true, out _);
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        NonlinearState.Mean(state, n).CopyTo(mean);
        NonlinearState.Covariance(state, n).CopyTo(covariance);
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        record[..GaussianBackward.MessageLength(n)].CopyTo(message);
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        GaussianBackward.Step(n, record, nextRecord, message);
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        message[..n].CopyTo(mean);
        message.Slice(n, n * n).CopyTo(covariance);
    }

    /// <inheritdoc />
    /// <remarks>By the filter's sigma points of the filtered state: (y_i − ŷ_i)² + Σ_j W^c_j (Z_ji − ŷ_i)² with
    /// Z_j = h(σ_j) and ŷ = Σ_j W^m_j Z_j, the unscented estimate of E[(y_i − h_i(x))²].</remarks>
    public void ExpectedSquaredResiduals(ReadOnlySpan<double> state, ReadOnlySpan<double> y, Span<double> squares)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var work = new Workspace(arena.Take(workspaceLength), n, m, count);
        var cov = arena.Take(n * n);
        NonlinearState.Covariance(state, n).CopyTo(cov);
        var fitted = arena.Take(m);
        var variance = arena.Take(m * m);
        var noNoise = arena.Take(m * m);
        if (ObservationMoments(NonlinearState.Mean(state, n), cov, work, fitted, variance, noNoise, repair: true, out _))
        {
            for (var i = 0; i < m; i++)
            {
                var residual = y[i] - fitted[i];
                squares[i] = (residual * residual) + variance[(i * m) + i];
            }
        }
        else
        {
            squares[..m].Fill(double.NaN);
        }

        arena.Release(mark);
    }

    /// <summary>
    /// Draws the points from (mean, cov), pushes them through h and writes ŷ, S (with R) and the residuals Z_i − ŷ.
    /// </summary>
    private bool ObservationMoments(
        ReadOnlySpan<double> mean,
        Span<double> cov,
        Workspace work,
        Span<double> observationMean,
        Span<double> observationCovariance,
        ReadOnlySpan<double> r,
        bool repair,
        out bool repaired)
    {
        if (!UnscentedTransform.Draw(mean, cov, n, spread, work.Sigma, repair, work.Root, out repaired))
        {
            return false;
        }

        var observation = model.Observation;
        for (var i = 0; i < count; i++)
        {
            observation(work.Sigma.Slice(i * n, n), work.Observations.Slice(i * m, m));
        }

        UnscentedTransform.Mean(work.Observations, count, m, meanWeights, observationMean, Robust);
        UnscentedTransform.Residuals(work.Observations, count, m, observationMean, work.ObservationResiduals);
        UnscentedTransform.Covariance(work.ObservationResiduals, count, m, covarianceWeights, observationCovariance);
        for (var i = 0; i < m * m; i++)
        {
            observationCovariance[i] += r[i];
        }

        return true;
    }

    /// <summary>χ_i = f(σ_i); mean and covariance (plus Q) of χ; leaves the residuals χ_i − mean in the workspace.</summary>
    private void Propagate(TransitionContext context, double gap, Workspace work, Span<double> mean, Span<double> cov)
    {
        var nn = n * n;
        var transition = model.Transition;
        for (var i = 0; i < count; i++)
        {
            transition(work.Sigma.Slice(i * n, n), context, work.Propagated.Slice(i * n, n));
        }

        UnscentedTransform.Mean(work.Propagated, count, n, meanWeights, mean, Robust);
        UnscentedTransform.Residuals(work.Propagated, count, n, mean, work.Residuals);
        UnscentedTransform.Covariance(work.Residuals, count, n, covarianceWeights, cov);
        var q = work.Noise;
        q.Clear();
        model.TransitionNoise(gap, q);
        for (var i = 0; i < nn; i++)
        {
            cov[i] += q[i];
        }

        if (Robust)
        {
            Dense.Symmetrize(cov, n);
        }
    }

    /// <summary>The scratch buffers of one step, cut from one arena slice.</summary>
    private readonly ref struct Workspace
    {
        public Workspace(Span<double> buffer, int n, int m, int count)
        {
            var offset = 0;
            Sigma = Cut(buffer, ref offset, count * n);
            SigmaResiduals = Cut(buffer, ref offset, count * n);
            Propagated = Cut(buffer, ref offset, count * n);
            Residuals = Cut(buffer, ref offset, count * n);
            Observations = Cut(buffer, ref offset, count * m);
            ObservationResiduals = Cut(buffer, ref offset, count * m);
            CrossCovariance = Cut(buffer, ref offset, n * m);
            Root = Cut(buffer, ref offset, n * n);
            Noise = Cut(buffer, ref offset, n * n);
        }

        /// <summary>Sigma points, count × n.</summary>
        public Span<double> Sigma { get; }

        /// <summary>σ_i − a_{t-1}, count × n.</summary>
        public Span<double> SigmaResiduals { get; }

        /// <summary>χ_i = f(σ_i), count × n.</summary>
        public Span<double> Propagated { get; }

        /// <summary>State residuals, count × n.</summary>
        public Span<double> Residuals { get; }

        /// <summary>Z_i = h(σ_i), count × m.</summary>
        public Span<double> Observations { get; }

        /// <summary>Z_i − ŷ, count × m.</summary>
        public Span<double> ObservationResiduals { get; }

        /// <summary>P_xz, n × m.</summary>
        public Span<double> CrossCovariance { get; }

        /// <summary>The square root of the covariance, n × n.</summary>
        public Span<double> Root { get; }

        /// <summary>Q, n × n.</summary>
        public Span<double> Noise { get; }

        public static int Length(int n, int m, int count) => (4 * count * n) + (2 * count * m) + (n * m) + (2 * n * n);

        private static Span<double> Cut(Span<double> buffer, scoped ref int offset, int length)
        {
            var slice = buffer.Slice(offset, length);
            offset += length;
            return slice;
        }
    }
}
