using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// Sequential Monte Carlo filter (bootstrap, auxiliary or guided) for any <see cref="IStateSpaceModel"/>, with
/// ESS-triggered resampling, unbiased likelihood increments, fixed-lag smoothing by ancestor tracing and fixed-interval
/// smoothing by marginal (FFBSm) weights.
/// </summary>
/// <remarks>
/// <para>Each stream carries N particles h^i with normalised log-weights log W^i (log Σ W = 0) and its own
/// <see cref="ParticleRandom"/>, all in its state buffer. A step at t &gt; 1 first decides whether to resample the
/// population of t−1: the bootstrap and guided filters resample when ESS_{t−1}/N &lt; <see cref="ParticleFilterOptions.EssThreshold"/>
/// (always when the threshold is 1), the auxiliary filter when the ESS of its first-stage weights
/// λ^i = W^i p̂(y_t | h^i_{t−1}) is below it (p̂ from <see cref="IStateSpaceModel.LookAheadLogLikelihood"/>). It then propagates
/// (transition or proposal) and reweights: log w^i = log W̃^i + log g(y_t | h^i_t) (+ log f − log q when guided,
/// − log ĝ of the ancestor when auxiliary), where W̃ are the weights after the resampling stage. The reported
/// <see cref="Estimate.LogLikelihood"/> is log Σ_i w^i, the unbiased estimate of p(y_t | y_{1:t−1}) (for the
/// auxiliary filter it includes the first-stage normaliser log Σ λ), computed with the log-sum-exp trick.</para>
/// <para>Outputs: <see cref="Estimate.PredictedMean"/>/Covariance are the weighted moments of the propagated
/// particles under W̃ (before y_t); where the auxiliary first stage resampled or the guided proposal drew them, those
/// particles already lean towards y_t, and the prediction comes from the population of t−1 before that stage pushed
/// through the transition instead (with a generator derived from the stream's, which it does not advance); the observation moments are Σ W̃ E[y|h] and Σ W̃ (Cov[y|h] + E E') − mean mean';
/// the state moments use the updated weights. Extras: <c>ess</c> (the ESS of the updated weights) and
/// <c>resampled</c> (1 when this step resampled the previous population before propagating, also flagged
/// <see cref="EstimateFlags.Resampled"/>).</para>
/// <para>Smoothing: the backward record of a step holds its particles, their normalised (filtering) weights, the
/// ancestor index of each particle in the previous step's population, and the step's index, time gap and whether it
/// was re-initialised. <see cref="Backward"/> traces ancestors: the message carries the lineage index of every final
/// particle and its final weight, so <see cref="Smoothing.FixedLagSmoother"/> gives the genealogy estimate of
/// p(h_{t−L} | y_{1:t}) at O(N) a step. A re-initialised step's record (<see cref="IRestartRecords"/>) holds the
/// population redrawn from the prior, from which every later particle descends: it begins a new lineage and is smoothed
/// as a stream's first step is, while a pass reaching the step before it starts again from that step's filtering
/// weights, since no later particle descends from it. The genealogy estimate degrades as L grows (path degeneracy); keep L short. A whole series
/// (<see cref="Smoothing.FixedIntervalSmoother"/>, through <see cref="BackwardOverInterval"/>) is smoothed by
/// marginal forward-filtering backward-smoothing when the model has a transition density
/// (<see cref="ITransitionDensity"/>) and <see cref="ParticleFilterOptions.IntervalSmoothing"/> allows it: smoothed
/// weights over each step's own filtering particles, which do not collapse, at O(N²) a step.</para>
/// <para>Former records: the previous build's record had no trailer. A fixed-lag state it saved is converted
/// (<see cref="IFormerRecords"/>): each record keeps its numbers and gets the trailer step 0 (no step has that index),
/// gap 0 and flag 2 (converted), since the step and gap of the transition into it are not known. Fixed lag reads
/// only a flag of 1 in the trailer (a re-initialised step, which a converted record never is), so its outputs are the
/// previous build's bit for bit; the fixed-interval step reads any non-zero flag
/// as a re-initialised step and restarts from the filtering weights of the step before, never using the step or gap.</para>
/// <para>Degeneracy policy: when no particle keeps a positive finite weight after the update (every log-weight −∞
/// or NaN), or a reported moment is not finite, the stream is re-initialised: particles are redrawn from the
/// prior at the step reached (<see cref="IStateSpaceModel.SampleInitialAt"/>) with uniform weights, the step counter and the random
/// stream carry on, and the current observation is assimilated once more against the fresh population (skipped,
/// with <see cref="EstimateFlags.ObservationSkipped"/>, if that is degenerate too). The step reports
/// <see cref="EstimateFlags.Reinitialized"/>, LogLikelihood = NaN and NIS = NaN; NaN is never emitted elsewhere. When
/// the reading had density 0 under every particle (every log-likelihood −∞), the particle estimate of
/// p(y_t | y_{1:t-1}) is 0, and the step reports LogLikelihood = −∞ and NIS = +∞ instead, as the Kalman filters do for
/// a reading they cannot use, so that anomaly rules fire on it.</para>
/// <para>Cost: a step makes a handful of vector passes over the population. Weights are exponentiated with the
/// managed vector exp of <c>InlineMath</c> (within about one ulp of the C library's), fused with the sums for the
/// normaliser and the ESS; one-dimensional moments take two fused passes; scratch buffers that are written before
/// they are read are not cleared. Sums are accumulated in vector lanes, so results can differ from a serial
/// evaluation by rounding only.</para>
/// <para>Controls: a model that reads them (the recurrent net's, <see cref="Recurrent.RecurrentParticleModel"/> with a
/// control dimension) gets each reading's control in the transition into its step, the look-ahead and the prediction
/// pushed through the transition, and the first reading's in the prior: the population <see cref="Initialize"/> drew
/// (controls missing) is drawn again from the prior given u_1 when that reading carries a control, as is a re-initialised
/// step's from its own reading's. <see cref="EstimatorInfo.ControlDimension"/> is the model's; for any other model it is
/// 0 and a control passed in is ignored, as the estimator contract says.</para>
/// <para>Forecasts simulate copies of the particles forward with a generator derived from (not advancing) the
/// stream's, after resampling the copies when their ESS is below the threshold, as the next step would. The
/// likelihood as a function of the model parameters is not smooth (resampling picks discrete ancestors), which
/// <see cref="MaximumLikelihood"/> handles through <see cref="INonSmoothLikelihood"/>.</para>
/// </remarks>
public sealed class ParticleFilter : IEstimator, IBackwardStep, INonSmoothLikelihood, IFormerRecords, IRestartRecords
{
    private const double Log2Pi = 1.8378770664093453;
    private const int StepsSlot = 0;
    private const int EssSlot = 1;
    private const int RandomSlot = 2;
    private const int WeightsSlot = RandomSlot + ParticleRandom.StateLength;
    private const int TrailerLength = 3;

    // The trailer's flag of a record converted from the previous build's layout (IFormerRecords): not 0, so the
    // fixed-interval step treats it as a re-initialised step; records this filter writes hold 0 or 1 there.
    private const double FormerLayout = 2.0;

    // Scratch budget of one block of the O(N²) backward step: rows of transition log-densities, at least one row.
    private const int BackwardBlockElements = 1 << 15;

    private readonly IStateSpaceModel model;
    private readonly IControlledStateSpaceModel? controlled;
    private readonly IParticleProposal? proposal;
    private readonly ParticleFilterOptions options;
    private readonly int count;
    private readonly int n;
    private readonly int m;
    private readonly int particlesSlot;
    private readonly int packedLength;
    private readonly double logCount;
    private readonly int essExtra;
    private readonly int resampledExtra;
    private readonly int trailerOffset;
    private readonly ITransitionDensity? density;

    /// <summary>Creates the filter.</summary>
    /// <exception cref="ModelValidationException">An option is invalid, or the guided filter is asked for a model without a proposal.</exception>
    public ParticleFilter(IStateSpaceModel model, ParticleFilterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ParticleFilterOptions();
        options.Validate();
        if (options.Algorithm == ParticleFilterAlgorithm.Guided && model.Proposal is null)
        {
            throw new ModelValidationException("filter", "\"guided\" needs a model with an importance proposal (the linear model has one); use \"bootstrap\" or \"auxiliary\".");
        }

        this.model = model;
        controlled = model is IControlledStateSpaceModel { ControlDimension: > 0 } c ? c : null;
        this.options = options;
        proposal = options.Algorithm == ParticleFilterAlgorithm.Guided ? model.Proposal : null;
        count = options.ParticleCount;
        n = model.StateDimension;
        m = model.ObservationDimension;
        particlesSlot = WeightsSlot + count;
        packedLength = (count + 1) / 2;
        logCount = Math.Log(count);
        trailerOffset = (n * count) + count + packedLength;
        density = model as ITransitionDensity;
        if (options.IntervalSmoothing == ParticleSmoothing.Ancestors
            || (options.IntervalSmoothing == ParticleSmoothing.Auto && count > ParticleFilterOptions.MarginalSmoothingParticleLimit))
        {
            density = null;
        }

        Info = new EstimatorInfo
        {
            Family = "particle",
            StateDimension = n,
            ObservationDimension = m,
            StateLength = particlesSlot + (n * count),
            BackwardRecordLength = trailerOffset + TrailerLength,
            SmoothingMessageLength = count + packedLength,
            UsesTimeGap = model.UsesTimeGap,
            ControlDimension = controlled?.ControlDimension ?? 0,
            Extras = [new ExtraField("ess"), new ExtraField("resampled", 1, IsInteger: true)],
        };
        essExtra = Info.ExtraOffset("ess");
        resampledExtra = Info.ExtraOffset("resampled");
    }

    /// <summary>The model.</summary>
    public IStateSpaceModel Model => model;

    /// <summary>The filter settings.</summary>
    public ParticleFilterOptions Options => options;

    /// <summary>
    /// True when fixed-interval smoothing (<see cref="BackwardOverInterval"/>) uses marginal FFBSm weights: the model
    /// has a transition density (<see cref="ITransitionDensity"/>) and <see cref="ParticleFilterOptions.IntervalSmoothing"/>
    /// allows it at this N. False: it traces ancestors, as fixed-lag smoothing always does.
    /// </summary>
    public bool SmoothsByMarginalWeights => density is not null;

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <summary>A re-initialised step always redraws its population from the prior and assimilates its reading (or
    /// skips it) as a first step does: every later particle descends from it.</summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => true;

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        state[..Info.StateLength].Clear();
        var random = ParticleRandom.FromSeed(seed);
        model.SampleInitial(state.Slice(particlesSlot, n * count), count, ref random);
        state.Slice(WeightsSlot, count).Fill(-logCount);
        state[EssSlot] = count;
        random.Store(state.Slice(RandomSlot, ParticleRandom.StateLength));
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        estimate.Reset();
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var random = ParticleRandom.Load(state.Slice(RandomSlot, ParticleRandom.StateLength));
        var logWeights = state.Slice(WeightsSlot, count);
        var particles = state.Slice(particlesSlot, n * count);
        // Every element of these is written before it is read (ancestors only when hasAncestors is set).
        var weights = arena.TakeUninitialized(count);
        var scratch = arena.TakeUninitialized(count);
        var ancestors = MemoryMarshal.Cast<double, int>(arena.TakeUninitialized(packedLength + 1))[..count];
        var y = observation.Values;
        var control = observation.Control;
        var observed = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed++;
            }
        }

        var step = (long)state[StepsSlot] + 1;
        var resampled = false;
        var uniform = false;
        var hasAncestors = false;

        // When the look-ahead or the proposal moves the particles towards y_t, the prediction p(h_t | y_{1:t-1}) is
        // taken from the population before that stage, propagated by the transition (see PredictFromTransition).
        Span<double> before = default;
        Span<double> beforeLogWeights = default;
        if (step > 1)
        {
            var gap = observation.TimeGap;
            var useLookAhead = options.Algorithm == ParticleFilterAlgorithm.Auxiliary && observed > 0;
            var useProposal = proposal is not null && observed > 0;
            if (useLookAhead)
            {
                before = arena.Take(n * count);
                beforeLogWeights = arena.Take(count);
                particles.CopyTo(before);
                logWeights.CopyTo(beforeLogWeights);
                resampled = AuxiliaryStage(particles, logWeights, weights, scratch, ancestors, y, gap, step, control, ref random);
                hasAncestors = resampled;
                if (!resampled)
                {
                    // Without the first-stage resampling the particles go through the transition as in the bootstrap
                    // filter, and their own moments are the prediction.
                    before = default;
                }
            }
            else if (options.EssThreshold >= 1.0 || state[EssSlot] < options.EssThreshold * count)
            {
                ParticleMath.Exp(logWeights, 0.0, weights);
                Resample(particles, weights, scratch, ancestors, ref random);
                Gather(particles, ancestors, scratch);
                logWeights.Fill(-logCount);
                resampled = true;
                uniform = true;
                hasAncestors = true;
            }

            if (useProposal)
            {
                var previous = arena.Take(n * count);
                particles.CopyTo(previous);
                before = previous;
                beforeLogWeights = arena.Take(count);
                logWeights.CopyTo(beforeLogWeights);
                proposal!.Sample(previous, particles, count, y, gap, step, ref random);
                proposal.TransitionLogDensity(previous, particles, count, gap, step, scratch);
                TensorPrimitives.Add(logWeights, scratch, logWeights);
                proposal.LogDensity(previous, particles, count, y, gap, step, scratch);
                TensorPrimitives.Subtract(logWeights, scratch, logWeights);
                uniform = false;
            }
            else
            {
                Transition(particles, gap, step, control, ref random);
            }
        }
        else
        {
            if (controlled is not null && !control.IsEmpty)
            {
                // The prior of h_1 reads the first reading's control (h_1 = cell(h_0, [y_0, u_1]) for a recurrent net),
                // which Initialize could not know: draw the population again from the prior given u_1.
                controlled.SampleInitial(particles, count, control, ref random);
                logWeights.Fill(-logCount);
            }

            uniform = IsUniform(logWeights);
        }

        // Predicted moments under the weights before y_t.
        double predictedLogTotal;
        if (uniform)
        {
            weights.Fill(1.0 / count);
            predictedLogTotal = 0.0;
        }
        else
        {
            logWeights.CopyTo(scratch);
            predictedLogTotal = ParticleMath.Normalize(scratch, weights, out _);
        }

        var degenerate = !double.IsFinite(predictedLogTotal);
        if (!degenerate)
        {
            if (before.IsEmpty)
            {
                PredictedMoments(particles, weights, estimate);
            }
            else
            {
                PredictFromTransition(state, before, beforeLogWeights, observation.TimeGap, step, control, estimate);
            }
        }

        // Update.
        var ess = state[EssSlot];
        var impossible = false;
        if (observed > 0 && !degenerate)
        {
            model.LogLikelihood(particles, count, y, scratch);
            TensorPrimitives.Add(logWeights, scratch, logWeights);
            var logTotal = ParticleMath.Normalize(logWeights, weights, out ess);
            // Only on the degenerate path: density 0 under every particle, not a density that is not a number.
            impossible = double.IsNegativeInfinity(logTotal) && !TensorPrimitives.IsNaNAny((ReadOnlySpan<double>)scratch[..count]);
            if (double.IsFinite(logTotal))
            {
                TensorPrimitives.Subtract(logWeights, logTotal, logWeights);
                estimate.LogLikelihood = logTotal;
                estimate.ObservedCount = observed;
                estimate.NormalizedInnovationSquared = InnovationSquared(y, estimate);
            }
            else
            {
                degenerate = true;
            }
        }
        else if (!degenerate && !uniform)
        {
            // Missing observation: keep the (normalised) predicted weights.
            TensorPrimitives.Subtract(logWeights, predictedLogTotal, logWeights);
            ess = 1.0 / TensorPrimitives.SumOfSquares(weights);
        }
        else if (!degenerate)
        {
            ess = count;
        }

        if (!degenerate)
        {
            ParticleMath.Moments(particles, count, n, weights, estimate.StateMean, estimate.StateCovariance);
            degenerate = !AllFinite(estimate);
        }

        if (degenerate)
        {
            ess = Reinitialize(particles, logWeights, weights, scratch, y, control, observed, step, estimate, ref random);
            hasAncestors = false;
            if (impossible)
            {
                // Density 0 under every particle: the estimate of p(y_t | y_1:t-1) is 0. Scored as the Kalman filters
                // score a reading they cannot use, so that anomaly rules fire on the reading that forced the restart.
                estimate.LogLikelihood = double.NegativeInfinity;
                estimate.NormalizedInnovationSquared = double.PositiveInfinity;
                estimate.ObservedCount = observed;
            }
        }

        if (!backwardRecord.IsEmpty)
        {
            WriteRecord(backwardRecord, particles, weights, ancestors, hasAncestors);
            var trailer = backwardRecord.Slice(trailerOffset, TrailerLength);
            trailer[0] = step;
            trailer[1] = observation.TimeGap;
            trailer[2] = (estimate.Flags & EstimateFlags.Reinitialized) != 0 ? 1.0 : 0.0;
        }

        state[StepsSlot] = step;
        state[EssSlot] = ess;
        random.Store(state.Slice(RandomSlot, ParticleRandom.StateLength));
        estimate.Extras[essExtra] = ess;
        estimate.Extras[resampledExtra] = resampled ? 1.0 : 0.0;
        if (resampled)
        {
            estimate.Flags |= EstimateFlags.Resampled;
        }

        arena.Release(mark);
    }

    /// <summary>Auxiliary first stage: look-ahead weights, resampling by them, and the ancestor correction.</summary>
    private bool AuxiliaryStage(Span<double> particles, Span<double> logWeights, Span<double> weights, Span<double> scratch, Span<int> ancestors, ReadOnlySpan<double> y, double gap, long step, ReadOnlySpan<double> control, ref ParticleRandom random)
    {
        var arena = ScratchArena.Current;
        var lookAhead = arena.Take(count);
        if (controlled is not null)
        {
            controlled.LookAheadLogLikelihood(particles, count, y, gap, step, control, lookAhead);
        }
        else
        {
            model.LookAheadLogLikelihood(particles, count, y, gap, step, lookAhead);
        }

        for (var i = 0; i < count; i++)
        {
            if (double.IsNaN(lookAhead[i]))
            {
                lookAhead[i] = double.NegativeInfinity;
            }
        }

        TensorPrimitives.Add(logWeights, lookAhead, scratch);
        var firstStageTotal = ParticleMath.Normalize(scratch, weights, out var firstStageEss);
        if (!double.IsFinite(firstStageTotal))
        {
            // The look-ahead ruled out every particle: fall back to a bootstrap step without resampling.
            return false;
        }

        if (options.EssThreshold < 1.0 && firstStageEss >= options.EssThreshold * count)
        {
            return false;
        }

        Resample(particles, weights, scratch, ancestors, ref random);
        Gather(particles, ancestors, scratch);
        var baseline = firstStageTotal - logCount;
        for (var j = 0; j < count; j++)
        {
            logWeights[j] = baseline - lookAhead[ancestors[j]];
        }

        return true;
    }

    /// <summary>Ancestor selection, optionally in the sorted order of one-dimensional particles.</summary>
    private void Resample(ReadOnlySpan<double> particles, Span<double> weights, Span<double> scratch, Span<int> ancestors, ref ParticleRandom random)
    {
        if (!options.SortedResampling || n != 1)
        {
            Resampler.Resample(options.Resampling, weights, ancestors, ref random);
            return;
        }

        var arena = ScratchArena.Current;
        var order = MemoryMarshal.Cast<double, int>(arena.Take(packedLength + 1))[..count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }

        particles[..count].CopyTo(scratch);
        scratch.Sort(order);
        for (var i = 0; i < count; i++)
        {
            scratch[i] = weights[order[i]];
        }

        Resampler.Resample(options.Resampling, scratch, ancestors, ref random);
        for (var i = 0; i < count; i++)
        {
            ancestors[i] = order[ancestors[i]];
        }
    }

    private void Gather(Span<double> particles, ReadOnlySpan<int> ancestors, Span<double> scratch)
    {
        for (var d = 0; d < n; d++)
        {
            var block = particles.Slice(d * count, count);
            for (var i = 0; i < count; i++)
            {
                scratch[i] = block[ancestors[i]];
            }

            scratch.CopyTo(block);
        }
    }

    private void PredictedMoments(ReadOnlySpan<double> particles, ReadOnlySpan<double> weights, Estimate estimate)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        ParticleMath.Moments(particles, count, n, weights, estimate.PredictedMean, estimate.PredictedCovariance);
        var emission = arena.TakeUninitialized(m * count);
        model.EmissionMean(particles, count, emission);
        ParticleMath.Moments(emission, count, m, weights, estimate.ObservationMean, estimate.ObservationCovariance);
        model.AddEmissionCovariance(particles, count, weights, estimate.ObservationCovariance);
        arena.Release(mark);
    }

    /// <summary>
    /// The predicted moments of a guided or auxiliary step: the population of t−1 as it stood before the stage that
    /// used y_t (normalised log-weights <paramref name="logWeights"/>), resampled when its ESS is below the threshold as
    /// the bootstrap filter would resample it, and pushed through the transition, all with a generator derived from,
    /// and not advancing, the stream's (the one a forecast made after t−1 uses), so the filtering outputs and the
    /// likelihood are untouched. The particles the proposal or look-ahead moved towards y_t, reweighted by f/q or
    /// 1/p̂(y_t | h_{t−1}), estimate the prediction only with weights that grow like 1/g(y_t | h_t): on an
    /// informative reading that estimate keeps a fraction of the predicted variance.
    /// </summary>
    private void PredictFromTransition(ReadOnlySpan<double> state, Span<double> before, Span<double> logWeights, double gap, long step, ReadOnlySpan<double> control, Estimate estimate)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var weights = arena.TakeUninitialized(count);
        ParticleMath.Normalize(logWeights, weights, out var ess);
        var random = ParticleRandom.Load(state.Slice(RandomSlot, ParticleRandom.StateLength)).Derive((ulong)(step - 1));
        if (options.EssThreshold >= 1.0 || ess < options.EssThreshold * count)
        {
            var scratch = arena.TakeUninitialized(count);
            var ancestors = MemoryMarshal.Cast<double, int>(arena.TakeUninitialized(packedLength + 1))[..count];
            Resample(before, weights, scratch, ancestors, ref random);
            Gather(before, ancestors, scratch);
            weights.Fill(1.0 / count);
        }

        Transition(before, gap, step, control, ref random);
        PredictedMoments(before, weights, estimate);
        arena.Release(mark);
    }

    /// <summary>The transition into step <paramref name="step"/>, given that step's control when the model reads one.</summary>
    private void Transition(Span<double> particles, double gap, long step, ReadOnlySpan<double> control, ref ParticleRandom random)
    {
        if (controlled is not null)
        {
            controlled.SampleTransition(particles, count, gap, step, control, ref random);
        }
        else
        {
            model.SampleTransition(particles, count, gap, step, ref random);
        }
    }

    private double InnovationSquared(ReadOnlySpan<double> y, Estimate estimate)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        Span<int> observed = stackalloc int[m];
        var k = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[k++] = i;
            }
        }

        var s = arena.Take(k * k);
        var v = arena.Take(k);
        for (var a = 0; a < k; a++)
        {
            v[a] = y[observed[a]] - estimate.ObservationMean[observed[a]];
            for (var b = 0; b < k; b++)
            {
                s[(a * k) + b] = estimate.ObservationCovariance[(observed[a] * m) + observed[b]];
            }
        }

        var nis = double.NaN;
        if (Dense.Cholesky(s, k))
        {
            Dense.ForwardSubstitute(s, k, v);
            nis = TensorPrimitives.SumOfSquares((ReadOnlySpan<double>)v);
        }

        arena.Release(mark);
        return nis;
    }

    private double Reinitialize(Span<double> particles, Span<double> logWeights, Span<double> weights, Span<double> scratch, ReadOnlySpan<double> y, ReadOnlySpan<double> control, int observed, long step, Estimate estimate, ref ParticleRandom random)
    {
        estimate.Flags |= EstimateFlags.Reinitialized;
        estimate.LogLikelihood = double.NaN;
        estimate.NormalizedInnovationSquared = double.NaN;
        estimate.ObservedCount = 0;
        if (controlled is not null)
        {
            // The step's reading is assimilated as a first reading, so the prior reads its control as the first does.
            controlled.SampleInitial(particles, count, control, ref random);
        }
        else
        {
            model.SampleInitialAt(particles, count, step, ref random);
        }

        logWeights.Fill(-logCount);
        weights.Fill(1.0 / count);
        PredictedMoments(particles, weights, estimate);
        var ess = (double)count;
        if (observed > 0)
        {
            model.LogLikelihood(particles, count, y, scratch);
            TensorPrimitives.Add(logWeights, scratch, scratch);
            var logTotal = ParticleMath.Normalize(scratch, weights, out var updatedEss);
            if (double.IsFinite(logTotal))
            {
                TensorPrimitives.Subtract(scratch, logTotal, logWeights);
                ess = updatedEss;
                estimate.ObservedCount = observed;
            }
            else
            {
                weights.Fill(1.0 / count);
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }
        }

        ParticleMath.Moments(particles, count, n, weights, estimate.StateMean, estimate.StateCovariance);
        if (!AllFinite(estimate))
        {
            // A prior that cannot be sampled finitely is a model defect; report zeros rather than NaN.
            Scrub(estimate.PredictedMean, estimate.PredictedCovariance, estimate.ObservationMean, estimate.ObservationCovariance, estimate.StateMean, estimate.StateCovariance);
        }

        return ess;
    }

    private static void Scrub(params double[][] buffers)
    {
        foreach (var b in buffers)
        {
            for (var i = 0; i < b.Length; i++)
            {
                if (!double.IsFinite(b[i]))
                {
                    b[i] = 0.0;
                }
            }
        }
    }

    private static bool AllFinite(Estimate e) =>
        Dense.AllFinite(e.PredictedMean) && Dense.AllFinite(e.PredictedCovariance) && Dense.AllFinite(e.ObservationMean)
        && Dense.AllFinite(e.ObservationCovariance) && Dense.AllFinite(e.StateMean) && Dense.AllFinite(e.StateCovariance);

    private bool IsUniform(ReadOnlySpan<double> logWeights)
    {
        var first = logWeights[0];
        return first == -logCount && TensorPrimitives.Min(logWeights) == first && TensorPrimitives.Max(logWeights) == first;
    }

    private void WriteRecord(Span<double> record, ReadOnlySpan<double> particles, ReadOnlySpan<double> weights, ReadOnlySpan<int> ancestors, bool hasAncestors)
    {
        particles.CopyTo(record[..(n * count)]);
        weights.CopyTo(record.Slice(n * count, count));
        var packed = MemoryMarshal.Cast<double, int>(record.Slice((n * count) + count, packedLength));
        if (hasAncestors)
        {
            ancestors.CopyTo(packed);
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                packed[i] = i;
            }
        }
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var particles = arena.Take(n * count);
        state.Slice(particlesSlot, n * count).CopyTo(particles);
        var weights = arena.Take(count);
        var logWeights = arena.Take(count);
        state.Slice(WeightsSlot, count).CopyTo(logWeights);
        ParticleMath.Normalize(logWeights, weights, out var ess);
        var emission = arena.Take(m * count);
        var step = (long)state[StepsSlot];
        var random = ParticleRandom.Load(state.Slice(RandomSlot, ParticleRandom.StateLength)).Derive((ulong)step);
        if (options.EssThreshold >= 1.0 || ess < options.EssThreshold * count)
        {
            // As the next step would: each particle is propagated once, so under uneven weights the forecast would rest
            // on about ESS draws and lose the factor 1/ESS of every step's transition noise (all of it when one particle
            // holds all the weight).
            var ancestors = MemoryMarshal.Cast<double, int>(arena.Take(packedLength + 1))[..count];
            Resample(particles, weights, logWeights, ancestors, ref random);
            Gather(particles, ancestors, logWeights);
            weights.Fill(1.0 / count);
        }

        for (var k = 1; k <= forecast.MaxHorizon; k++)
        {
            model.SampleTransition(particles, count, stepGap, step + k, ref random);
            ParticleMath.Moments(particles, count, n, weights, forecast.StateMeanAt(k), forecast.StateCovarianceAt(k));
            model.EmissionMean(particles, count, emission);
            var oc = forecast.ObservationCovarianceAt(k);
            ParticleMath.Moments(emission, count, m, weights, forecast.ObservationMeanAt(k), oc);
            model.AddEmissionCovariance(particles, count, weights, oc);
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var weights = arena.Take(count);
        var logWeights = arena.Take(count);
        state.Slice(WeightsSlot, count).CopyTo(logWeights);
        ParticleMath.Normalize(logWeights, weights, out _);
        ParticleMath.Moments(state.Slice(particlesSlot, n * count), count, n, weights, mean, covariance);
        arena.Release(mark);
    }

    /// <summary>The previous build's record: this one without its trailer.</summary>
    int IFormerRecords.FormerRecordLength => trailerOffset;

    /// <inheritdoc />
    void IFormerRecords.UpgradeRecord(ReadOnlySpan<double> former, ReadOnlySpan<double> state, bool newest, Span<double> record)
    {
        former[..trailerOffset].CopyTo(record);
        var trailer = record.Slice(trailerOffset, TrailerLength);
        trailer[0] = 0.0;
        trailer[1] = 0.0;
        trailer[2] = FormerLayout;
    }

    /// <inheritdoc />
    bool IFormerRecords.IsFormerRecord(ReadOnlySpan<double> record) =>
        record.Length >= trailerOffset + TrailerLength && record[trailerOffset + 2] == FormerLayout;

    /// <summary>Ancestor tracing reads no trailer, so a pass over converted records starts as any other.</summary>
    void IFormerRecords.StartBackwardAsFormer(ReadOnlySpan<double> record, Span<double> message) => StartBackward(record, message);

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        record.Slice(n * count, count).CopyTo(message[..count]);
        var lineage = MemoryMarshal.Cast<double, int>(message.Slice(count, packedLength));
        for (var i = 0; i < count; i++)
        {
            lineage[i] = i;
        }
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        if (nextRecord[trailerOffset + 2] == 1.0)
        {
            // The next step redrew its particles from the prior: none descends from this step's, and the readings from
            // there on say nothing about it, so the pass starts again from its filtering weights. (A record converted
            // from the previous build's layout has flag 2, which tracing never reads.)
            StartBackward(record, message);
            return;
        }

        var lineage = MemoryMarshal.Cast<double, int>(message.Slice(count, packedLength));
        var parents = MemoryMarshal.Cast<double, int>(nextRecord.Slice((n * count) + count, packedLength));
        for (var i = 0; i < count; i++)
        {
            lineage[i] = parents[lineage[i]];
        }
    }

    /// <summary>
    /// The fixed-interval backward step. With a transition density (<see cref="SmoothsByMarginalWeights"/>) it is
    /// marginal forward-filtering backward-smoothing: the message holds the smoothed weights w_{t+1|T} of step t+1's
    /// particles and becomes w^i_{t|T} = Σ_j w^j_{t+1|T} w^i_t f(h^j_{t+1} | h^i_t) / Σ_k w^k_t f(h^j_{t+1} | h^k_t) over
    /// step t's filtering particles and weights, each inner sum in log space with its maximum subtracted; its
    /// lineage part stays the identity. Otherwise it is <see cref="Backward"/> (ancestor tracing).
    /// </summary>
    /// <remarks>
    /// Cost O(N²) per step (N² transition log-densities and exponentials, in blocks of rows within a fixed scratch
    /// budget), no allocation. Where a step's transition has no density (a singular noise covariance for that gap)
    /// the weights pass to the ancestors instead; across a re-initialised step (whose particles were drawn afresh from
    /// the prior) they restart from the filtering weights at t, as they do across a record converted from the previous
    /// build's layout (whose step and gap are not known). Next particles none of step t's particles can reach
    /// (every density 0) drop out and the rest are renormalised; if none is reachable the filtering weights at t
    /// stand in.
    /// </remarks>
    public void BackwardOverInterval(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        if (density is null)
        {
            Backward(record, nextRecord, message);
            return;
        }

        SpanChecks.Backward(record, nextRecord, message, Info);
        var smoothed = message[..count];
        var filtered = record.Slice(n * count, count);
        var trailer = nextRecord.Slice(trailerOffset, TrailerLength);
        var step = (long)trailer[0];
        var gap = trailer[1];
        if (trailer[2] != 0.0)
        {
            filtered.CopyTo(smoothed);
            return;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var accumulated = arena.Take(count);
        if (!density.HasTransitionDensity(gap, step))
        {
            var parents = MemoryMarshal.Cast<double, int>(nextRecord.Slice((n * count) + count, packedLength));
            for (var j = 0; j < count; j++)
            {
                accumulated[parents[j]] += smoothed[j];
            }
        }
        else
        {
            MarginalWeights(record[..(n * count)], filtered, nextRecord[..(n * count)], smoothed, gap, step, accumulated);
        }

        var total = TensorPrimitives.Sum((ReadOnlySpan<double>)accumulated);
        if (total > 0.0 && double.IsFinite(total))
        {
            TensorPrimitives.Multiply(accumulated, 1.0 / total, smoothed);
        }
        else
        {
            filtered.CopyTo(smoothed);
        }

        arena.Release(mark);
    }

    /// <summary>Adds Σ_j next_j · normalised(w^i_t f(h^j_{t+1} | h^i_t)) over i to <paramref name="accumulated"/>.</summary>
    private void MarginalWeights(ReadOnlySpan<double> particles, ReadOnlySpan<double> filtered, ReadOnlySpan<double> nextParticles, ReadOnlySpan<double> next, double gap, long step, Span<double> accumulated)
    {
        var arena = ScratchArena.Current;
        var logFiltered = arena.TakeUninitialized(count);
        TensorPrimitives.Log(filtered, logFiltered);
        var block = Math.Clamp(BackwardBlockElements / count, 1, count);
        var rows = arena.TakeUninitialized(block * count);
        var targets = arena.TakeUninitialized(n * block);
        var start = 0;
        while (start < count)
        {
            // The next particles of this block with positive smoothed weight, gathered (structure of arrays).
            var b = 0;
            var j0 = start;
            for (; j0 < count && b < block; j0++)
            {
                if (next[j0] > 0.0)
                {
                    b++;
                }
            }

            var k = 0;
            for (var j = start; j < j0; j++)
            {
                if (next[j] > 0.0)
                {
                    for (var d = 0; d < n; d++)
                    {
                        targets[(d * b) + k] = nextParticles[(d * count) + j];
                    }

                    k++;
                }
            }

            if (b > 0)
            {
                density!.TransitionLogDensity(particles, count, targets[..(n * b)], b, gap, step, rows);
                k = 0;
                for (var j = start; j < j0; j++)
                {
                    if (!(next[j] > 0.0))
                    {
                        continue;
                    }

                    ParticleMath.AddNormalized(rows.Slice(k * count, count), logFiltered, next[j], accumulated);
                    k++;
                }
            }

            start = j0;
        }
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var traced = arena.Take(n * count);
        var lineage = MemoryMarshal.Cast<double, int>(message.Slice(count, packedLength));
        for (var d = 0; d < n; d++)
        {
            var source = record.Slice(d * count, count);
            var target = traced.Slice(d * count, count);
            for (var i = 0; i < count; i++)
            {
                target[i] = source[lineage[i]];
            }
        }

        ParticleMath.Moments(traced, count, n, message[..count], mean, covariance);
        arena.Release(mark);
    }
}
