using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// The extended Kalman filter for a <see cref="NonlinearGaussianModel"/>: the transition and observation are
/// linearised at the current estimate, with the Joseph-form update, missing components, forecasts and the
/// Rauch–Tung–Striebel backward step.
/// </summary>
/// <remarks>
/// <para>Predict: F = ∂f/∂x at the filtered mean a_{t-1}, a⁻ = f(a_{t-1}), P⁻ = F P_{t-1} F' + Q(Δt). Update over the
/// observed rows o: H = ∂h/∂x at a⁻, ŷ = h(a⁻), S = H_o P⁻ H_o' + R_oo, K = P⁻ H_o' S⁻¹, a = a⁻ + K (y_o − ŷ_o),
/// P = (I − K H_o) P⁻ (I − K H_o)' + K R_oo K' (Joseph form, symmetrised); log p(y_t | y_{1:t-1}) is log N(y_o; ŷ_o, S)
/// and the NIS is v' S⁻¹ v. The reported observation moments are ŷ and H P⁻ H' + R over all m components.</para>
/// <para>Jacobians come from the model, or from central finite differences (<see cref="JacobianSource"/>; the step
/// rule is h_j = ε^{1/3}·max(|x_j|, 1)).</para>
/// <para>Forecasts propagate the mean through f and the covariance through the Jacobian at each propagated mean:
/// a ← f(a), P ← F(a) P F(a)' + Q; the observation forecast is h(a) and H P H' + R. The backward step is the RTS
/// recursion of <see cref="GaussianBackward"/> with the linearised cross-covariance C_t = P_{t-1} F'.</para>
/// <para>Guard rails, as in <see cref="KalmanFilter"/>: a non-finite mean or covariance re-initialises the stream from
/// the prior with this reading as the first (<see cref="EstimateFlags.Reinitialized"/>; the step index keeps counting),
/// or leaves it at the prior when that first step fails too (the step reports the prior); a covariance that fails the
/// cheap positive semi-definiteness checks is repaired by clipping negative eigenvalues
/// (<see cref="EstimateFlags.Repaired"/>); an innovation covariance that is not positive definite skips the update
/// (<see cref="EstimateFlags.ObservationSkipped"/>).</para>
/// </remarks>
public sealed class ExtendedKalmanFilter : IEstimator, IBackwardStep, IObservationNoiseOverride, IRestartRecords, INonlinearStep
{
    private readonly NonlinearGaussianModel model;
    private readonly int n;
    private readonly int m;
    private readonly TransitionJacobian? transitionJacobian;
    private readonly ObservationJacobian? observationJacobian;
    private readonly double[] observationNoise;

    /// <summary>Creates the filter.</summary>
    /// <param name="model">The model.</param>
    /// <param name="jacobians">Analytic Jacobians (where the model gives them) or finite differences.</param>
    /// <param name="family">Family name written into output records.</param>
    public ExtendedKalmanFilter(NonlinearGaussianModel model, JacobianSource jacobians = JacobianSource.Model, string family = "ekf")
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        n = model.StateDimension;
        m = model.ObservationDimension;
        Jacobians = jacobians;
        if (jacobians == JacobianSource.Model)
        {
            transitionJacobian = model.TransitionJacobian;
            observationJacobian = model.ObservationJacobian;
        }

        observationNoise = model.ObservationNoise.ToArray();
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

    /// <summary>Where the Jacobians come from.</summary>
    public JacobianSource Jacobians { get; }

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
        var steps = NonlinearState.Steps(state);
        var mean = NonlinearState.Mean(state, n);
        var cov = NonlinearState.Covariance(state, n);
        var pm = estimate.PredictedMean.AsSpan();
        var pc = estimate.PredictedCovariance.AsSpan();
        var hasRecord = !backwardRecord.IsEmpty;
        var cross = hasRecord ? backwardRecord.Slice((2 * n) + (2 * nn), nn) : default;

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
            var context = new TransitionContext(gap, steps + 1, observation.Control);
            var f = arena.Take(nn);
            TransitionJacobianAt(mean, context, f);
            model.Transition(mean, context, pm);
            var fp = arena.Take(nn);
            Dense.Multiply(f, n, n, cov, n, fp);
            Dense.MultiplyTransposed(fp, n, n, f, n, pc);
            var q = arena.Take(nn);
            model.TransitionNoise(gap, q);
            for (var i = 0; i < nn; i++)
            {
                pc[i] += q[i];
            }

            Dense.Symmetrize(pc, n);
            if (hasRecord)
            {
                // Cov(x_{t-1}, x_t | y_{1:t-1}) ≈ P_{t-1} F'.
                Dense.MultiplyTransposed(cov, n, n, f, n, cross);
            }
        }

        state[NonlinearState.PendingSlot] = 0.0;
        var om = estimate.ObservationMean.AsSpan();
        var oc = estimate.ObservationCovariance.AsSpan();
        var h = arena.Take(m * n);
        ObservationMoments(pm, pc, om, oc, h, r);
        pm.CopyTo(mean);
        pc.CopyTo(cov);
        Span<int> observed = stackalloc int[m];
        var k = GaussianUpdate.Observed(observation.Values, observed);
        if (k > 0 && !GaussianUpdate.Joseph(n, m, mean, cov, h, r, om, oc, observation.Values, observed[..k], estimate))
        {
            estimate.Flags |= EstimateFlags.ObservationSkipped;
        }

        NonlinearState.SetSteps(state, steps + 1);
        if (!Dense.AllFinite(mean) || !Dense.AllFinite(cov))
        {
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
        else if (!Dense.LooksPositiveSemiDefinite(cov, n))
        {
            Dense.RepairCovariance(cov, n);
            estimate.Flags |= EstimateFlags.Repaired;
        }

        if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            // Re-initialise from the prior; the step reports the prior and its observation moments.
            NonlinearState.LoadPrior(state, model);
            estimate.LogLikelihood = double.NaN;
            estimate.NormalizedInnovationSquared = double.NaN;
            estimate.ObservedCount = 0;
            mean.CopyTo(pm);
            cov.CopyTo(pc);
            h.Clear();
            ObservationMoments(pm, pc, om, oc, h, r);
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
        var a = arena.Take(n);
        var p = arena.Take(nn);
        NonlinearState.Mean(state, n).CopyTo(a);
        NonlinearState.Covariance(state, n).CopyTo(p);
        var held = NonlinearState.HeldIndex(state, model);
        var f = arena.Take(nn);
        var q = arena.Take(nn);
        var tmp = arena.Take(nn);
        var h = arena.Take(m * n);
        for (var k = 1; k <= forecast.MaxHorizon; k++)
        {
            var context = new TransitionContext(stepGap, held + k);
            f.Clear();
            TransitionJacobianAt(a, context, f);
            var next = forecast.StateMeanAt(k);
            model.Transition(a, context, next);
            next.CopyTo(a);
            Dense.Multiply(f, n, n, p, n, tmp);
            Dense.MultiplyTransposed(tmp, n, n, f, n, p);
            q.Clear();
            model.TransitionNoise(stepGap, q);
            for (var i = 0; i < nn; i++)
            {
                p[i] += q[i];
            }

            Dense.Symmetrize(p, n);
            p.CopyTo(forecast.StateCovarianceAt(k));
            h.Clear();
            ObservationMoments(a, p, forecast.ObservationMeanAt(k), forecast.ObservationCovarianceAt(k), h, r);
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

    /// <summary>ŷ = h(a), H = ∂h/∂x at a (into <paramref name="h"/>, cleared) and S = H P H' + R.</summary>
    private void ObservationMoments(ReadOnlySpan<double> a, ReadOnlySpan<double> p, Span<double> observationMean, Span<double> observationCovariance, Span<double> h, ReadOnlySpan<double> r)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        model.Observation(a, observationMean);
        ObservationJacobianAt(a, h);
        var hp = arena.Take(m * n);
        Dense.Multiply(h, m, n, p, n, hp);
        Dense.MultiplyTransposed(hp, m, n, h, m, observationCovariance);
        for (var i = 0; i < m * m; i++)
        {
            observationCovariance[i] += r[i];
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    /// <remarks>Linearised at the filtered mean: (y_i − h_i(a))² + (H P H')_ii with H = ∂h/∂x at a.</remarks>
    public void ExpectedSquaredResiduals(ReadOnlySpan<double> state, ReadOnlySpan<double> y, Span<double> squares)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var mean = NonlinearState.Mean(state, n);
        var cov = NonlinearState.Covariance(state, n);
        var fitted = arena.Take(m);
        var h = arena.Take(m * n);
        model.Observation(mean, fitted);
        ObservationJacobianAt(mean, h);
        for (var i = 0; i < m; i++)
        {
            var row = h.Slice(i * n, n);
            var hph = 0.0;
            for (var c = 0; c < n; c++)
            {
                var acc = 0.0;
                for (var e = 0; e < n; e++)
                {
                    acc += cov[(c * n) + e] * row[e];
                }

                hph += row[c] * acc;
            }

            var residual = y[i] - fitted[i];
            squares[i] = (residual * residual) + hph;
        }

        arena.Release(mark);
    }

    private void TransitionJacobianAt(ReadOnlySpan<double> x, TransitionContext context, Span<double> jacobian)
    {
        if (transitionJacobian is not null)
        {
            transitionJacobian(x, context, jacobian);
            return;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        FiniteDifferences.Transition(model.Transition, x, context, n, jacobian, arena.Take(3 * n));
        arena.Release(mark);
    }

    private void ObservationJacobianAt(ReadOnlySpan<double> x, Span<double> jacobian)
    {
        if (observationJacobian is not null)
        {
            observationJacobian(x, jacobian);
            return;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        FiniteDifferences.Observation(model.Observation, x, n, m, jacobian, arena.Take(n + (2 * m)));
        arena.Release(mark);
    }
}
