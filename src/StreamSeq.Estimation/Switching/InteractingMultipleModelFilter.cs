using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Switching;

/// <summary>
/// The interacting multiple model (IMM) filter for a <see cref="SwitchingLinearGaussianModel"/>: one Kalman filter
/// per mode, re-initialised each step from a probability-weighted mixture of all modes.
/// </summary>
/// <remarks>
/// <para>With filtered mode probabilities μ_i and mode-conditional moments (x_i, P_i) at t−1, one step is
/// (Blom &amp; Bar-Shalom):</para>
/// <para>1. Mixing: predicted mode probabilities c_j = Σ_i Π_ij μ_i, mixing weights μ_{i|j} = Π_ij μ_i / c_j,
/// x0_j = Σ_i μ_{i|j} x_i, P0_j = Σ_i μ_{i|j} (P_i + (x_i − x0_j)(x_i − x0_j)').</para>
/// <para>2. Mode-matched filtering: the Kalman step of mode j from (x0_j, P0_j) (the same <see cref="KalmanFilter"/>
/// code: Joseph update, missing components, time gaps, controls) gives x_j, P_j and the likelihood
/// Λ_j = N(y_t; ŷ_j, S_j).</para>
/// <para>3. Mode probabilities: μ_j = c_j Λ_j / Σ_k c_k Λ_k, and log p(y_t | y_{1:t−1}) = log Σ_j c_j Λ_j (computed in
/// log space).</para>
/// <para>4. Combination: x = Σ μ_j x_j, P = Σ μ_j (P_j + (x_j − x)(x_j − x)'); the predicted and observation
/// moments combine the mode predictions with weights c_j the same way (the observation moments are those of the
/// Gaussian-mixture predictive of y_t, and NIS uses them).</para>
/// <para>At the first observation there is no mixing: mode j starts from its own prior and c = π. The extra
/// <c>modeProbabilities</c> reports μ. Forecasts run the same recursion without observations (mixing at every
/// horizon).</para>
/// <para>Smoothing (approximate): the backward step is the Rauch–Tung–Striebel step of <see cref="GaussianBackward"/>
/// applied to the moment-matched Gaussian of the IMM mixture. The record of step t holds the combined filtered and
/// predicted moments and the cross-covariance of the mixture's joint (h_{t−1}, h_t) given y_{1:t−1}:
/// C_t = Σ_j c_j [P0_j F_j' + (x0_j − x̄_{t−1})(x⁻_j − x̄⁻_t)'], where x0_j, P0_j are the mixed moments fed to mode j,
/// x⁻_j its prediction, x̄_{t−1} = Σ_j c_j x0_j and x̄⁻_t = Σ_j c_j x⁻_j. With one mode (or identical modes) this is
/// exactly the Kalman RTS smoother; with distinct modes it collapses each step's mixture to one Gaussian and does
/// not smooth the mode probabilities. It works well when modes differ in their observation model; when they differ
/// in process noise, a wide mode with a small predicted probability inflates the collapsed predicted covariance and
/// the smoother gains little over the filter (a per-mode IMM smoother would do better).</para>
/// <para>Guard rails: when a mode's Kalman step re-initialises, the whole stream starts again from the prior with this
/// reading as the first (<see cref="EstimateFlags.Reinitialized"/>, as the Kalman filter restarts after a huge gap);
/// when that first step or the combined moments are not finite, the stream restarts from the prior without the
/// reading (<see cref="EstimateFlags.Reinitialized"/>, LogLikelihood = NaN); when a mode
/// cannot use the observation (its innovation covariance is not positive definite) the mode probabilities are
/// only predicted (<see cref="EstimateFlags.ObservationSkipped"/>). A mode whose squared Mahalanobis distance
/// overflows (a reading such as 1e200) has Λ_j = 0: the other modes take the reading; when every mode that can be
/// active has Λ_j = 0, the step is scored as the Kalman filter scores it (log-likelihood −∞, NIS +∞,
/// <see cref="EstimateFlags.ObservationSkipped"/>), the moments stay the predictions and the mode probabilities are
/// only predicted.</para>
/// </remarks>
public sealed class InteractingMultipleModelFilter : IEstimator, IBackwardStep, IRestartRecords
{
    private const int StepsSlot = 0;
    private const int ProbabilitiesSlot = 1;

    [ThreadStatic]
    private static ConditionalWeakTable<InteractingMultipleModelFilter, Estimate[]>? buffers;

    private readonly SwitchingLinearGaussianModel model;
    private readonly KalmanFilter[] filters;
    private readonly int k;
    private readonly int n;
    private readonly int m;
    private readonly int modeLength;
    private readonly int modesSlot;
    private readonly int covarianceOffset;

    /// <summary>Creates the filter.</summary>
    public InteractingMultipleModelFilter(SwitchingLinearGaussianModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        k = model.ModeCount;
        n = model.StateDimension;
        m = model.ObservationDimension;
        filters = [.. model.Modes.Select(mode => new KalmanFilter(mode))];
        modeLength = filters[0].Info.StateLength;
        covarianceOffset = filters[0].CovarianceOffset;
        modesSlot = ProbabilitiesSlot + k;
        Info = new EstimatorInfo
        {
            Family = "imm",
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = model.Modes[0].ControlDimension,
            StateLength = modesSlot + (k * modeLength),
            UsesTimeGap = filters.Any(f => f.Info.UsesTimeGap),
            BackwardRecordLength = GaussianBackward.RecordLength(n),
            SmoothingMessageLength = GaussianBackward.MessageLength(n),
            Extras = [new ExtraField("modeProbabilities", k)],
        };
    }

    /// <summary>The model parameters.</summary>
    public SwitchingLinearGaussianModel Model => model;

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        state[..Info.StateLength].Clear();
        model.InitialModeProbabilities.CopyTo(state.Slice(ProbabilitiesSlot, k));
        for (var j = 0; j < k; j++)
        {
            filters[j].Initialize(Mode(state, j), seed);
        }
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        estimate.Reset();
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var modeEstimates = Buffers();
        var probabilities = state.Slice(ProbabilitiesSlot, k);
        var predicted = arena.Take(k);
        var first = state[StepsSlot] == 0.0;
        var hasRecord = !backwardRecord.IsEmpty;
        var mixedMeans = hasRecord ? arena.Take(k * n) : default;
        var crossParts = hasRecord ? arena.Take(k * n * n) : default;
        if (first)
        {
            model.InitialModeProbabilities.CopyTo(predicted);
        }
        else
        {
            Mix(state, probabilities, predicted);
            if (hasRecord)
            {
                MixedCrossParts(state, observation.TimeGap, mixedMeans, crossParts);
            }
        }

        var modeRestarted = false;
        var skipped = false;
        var overflowed = false;
        for (var j = 0; j < k; j++)
        {
            var e = modeEstimates[j];
            filters[j].Step(Mode(state, j), observation, e, default);
            modeRestarted |= (e.Flags & EstimateFlags.Reinitialized) != 0;

            // A mode whose squared Mahalanobis distance overflows scored the reading (log Λ_j = −∞, so μ_j = 0); only a
            // mode that could not use it (no observed rows scored) stops the update of the mode probabilities.
            skipped |= (e.Flags & EstimateFlags.ObservationSkipped) != 0 && !(e.ObservedCount > 0 && double.IsNegativeInfinity(e.LogLikelihood));
            estimate.Flags |= e.Flags & EstimateFlags.Repaired;
        }

        var degenerate = modeRestarted;

        var observed = 0;
        foreach (var v in observation.Values[..m])
        {
            if (double.IsFinite(v))
            {
                observed++;
            }
        }

        if (observed > 0 && !skipped && !degenerate)
        {
            // μ_j ∝ c_j Λ_j in log space.
            var max = double.NegativeInfinity;
            for (var j = 0; j < k; j++)
            {
                var a = predicted[j] > 0.0 ? Math.Log(predicted[j]) + modeEstimates[j].LogLikelihood : double.NegativeInfinity;
                probabilities[j] = a;
                max = Math.Max(max, a);
            }

            if (double.IsFinite(max))
            {
                var sum = 0.0;
                for (var j = 0; j < k; j++)
                {
                    var w = Math.Exp(probabilities[j] - max);
                    probabilities[j] = w;
                    sum += w;
                }

                for (var j = 0; j < k; j++)
                {
                    probabilities[j] /= sum;
                }

                estimate.LogLikelihood = max + Math.Log(sum);
                estimate.ObservedCount = observed;
            }
            else if (double.IsNegativeInfinity(max))
            {
                // Every mode that can be active rules the reading out (its distance overflows): as the Kalman filter
                // does, score it −∞ with NIS +∞, keep the predictions and only predict the mode probabilities.
                predicted.CopyTo(probabilities);
                estimate.Flags |= EstimateFlags.ObservationSkipped;
                estimate.LogLikelihood = double.NegativeInfinity;
                estimate.ObservedCount = observed;
                overflowed = true;
            }
            else
            {
                degenerate = true;
            }
        }
        else
        {
            predicted.CopyTo(probabilities);
            if (skipped && observed > 0)
            {
                estimate.Flags |= EstimateFlags.ObservationSkipped;
            }
        }

        state[StepsSlot] += 1.0;
        if (!degenerate)
        {
            Combine(modeEstimates, predicted, probabilities, estimate);
            if (overflowed)
            {
                estimate.NormalizedInnovationSquared = double.PositiveInfinity;
            }
            else if (estimate.ObservedCount > 0)
            {
                estimate.NormalizedInnovationSquared = InnovationSquared(observation.Values, estimate);
            }

            degenerate = !Dense.AllFinite(estimate.StateMean) || !Dense.AllFinite(estimate.StateCovariance)
                || !Dense.AllFinite(estimate.PredictedMean) || !Dense.AllFinite(estimate.PredictedCovariance)
                || !Dense.AllFinite(estimate.ObservationMean) || !Dense.AllFinite(estimate.ObservationCovariance);
        }

        if (degenerate && modeRestarted && !first)
        {
            // A mode's Kalman step lost its state (a prediction grown beyond double precision, as after a huge gap):
            // as the Kalman filter does, the stream starts again from the prior with this reading as the first.
            arena.Release(mark);
            Initialize(state, 0);
            Step(state, observation, estimate, backwardRecord);
            estimate.Flags |= EstimateFlags.Reinitialized;
            return;
        }

        if (degenerate)
        {
            Restart(state, estimate);
        }

        if (hasRecord)
        {
            var cross = arena.Take(n * n);
            if (!first && !degenerate)
            {
                CrossCovariance(modeEstimates, predicted, mixedMeans, crossParts, estimate.PredictedMean, cross);
            }

            GaussianBackward.WriteRecord(n, backwardRecord, estimate.StateMean, estimate.StateCovariance, estimate.PredictedMean, estimate.PredictedCovariance, cross);
        }

        probabilities.CopyTo(estimate.Extras);
        arena.Release(mark);
    }

    /// <summary>
    /// After a re-initialised step: true when a mode's Kalman step lost its state and the stream started again from the
    /// prior with this reading assimilated as a first step (its record is a first step's, with no cross-covariance, and
    /// the next step mixes from it); false when the stream was reset to the prior without the reading (a first step or
    /// combined moments that were not finite: no step counted, the next reading is the stretch's first).
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => state[StepsSlot] > 0.0;

    /// <summary>Mixing: writes c into <paramref name="predicted"/> and the mixed moments into each mode's state.</summary>
    private void Mix(Span<double> state, ReadOnlySpan<double> probabilities, Span<double> predicted)
    {
        var arena = ScratchArena.Current;
        var nn = n * n;
        var pi = model.ModeTransition;
        var mixedMeans = arena.Take(k * n);
        var mixedCovs = arena.Take(k * nn);
        var weights = arena.Take(k);
        for (var j = 0; j < k; j++)
        {
            var c = 0.0;
            for (var i = 0; i < k; i++)
            {
                c += pi[(i * k) + j] * probabilities[i];
            }

            predicted[j] = c;
            for (var i = 0; i < k; i++)
            {
                weights[i] = c > 0.0 ? pi[(i * k) + j] * probabilities[i] / c : probabilities[i];
            }

            var mean = mixedMeans.Slice(j * n, n);
            var cov = mixedCovs.Slice(j * nn, nn);
            for (var i = 0; i < k; i++)
            {
                var w = weights[i];
                if (w == 0.0)
                {
                    continue;
                }

                var xi = ModeMean(state, i);
                for (var a = 0; a < n; a++)
                {
                    mean[a] += w * xi[a];
                }
            }

            for (var i = 0; i < k; i++)
            {
                var w = weights[i];
                if (w == 0.0)
                {
                    continue;
                }

                var xi = ModeMean(state, i);
                var pcov = ModeCovariance(state, i);
                for (var a = 0; a < n; a++)
                {
                    var da = xi[a] - mean[a];
                    for (var b = 0; b < n; b++)
                    {
                        cov[(a * n) + b] += w * (pcov[(a * n) + b] + (da * (xi[b] - mean[b])));
                    }
                }
            }
        }

        for (var j = 0; j < k; j++)
        {
            mixedMeans.Slice(j * n, n).CopyTo(ModeMean(state, j));
            mixedCovs.Slice(j * nn, nn).CopyTo(ModeCovariance(state, j));
        }
    }

    /// <summary>Copies the mixed means x0_j and writes P0_j F_j' for every mode (before the mode filters run).</summary>
    private void MixedCrossParts(ReadOnlySpan<double> state, double timeGap, Span<double> mixedMeans, Span<double> crossParts)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var nn = n * n;
        var f = arena.Take(nn);
        var q = arena.Take(nn);
        var c = arena.Take(n);
        for (var j = 0; j < k; j++)
        {
            ModeMean(state, j).CopyTo(mixedMeans.Slice(j * n, n));
            model.Modes[j].Dynamics.Discretize(timeGap, f, q, c);
            Dense.MultiplyTransposed(ModeCovariance(state, j), n, n, f, n, crossParts.Slice(j * nn, nn));
        }

        arena.Release(mark);
    }

    /// <summary>C = Σ_j c_j [P0_j F_j' + (x0_j − x̄)(x⁻_j − x̄⁻)'] with x̄ = Σ_j c_j x0_j.</summary>
    private void CrossCovariance(Estimate[] modeEstimates, ReadOnlySpan<double> predicted, ReadOnlySpan<double> mixedMeans, ReadOnlySpan<double> crossParts, ReadOnlySpan<double> predictedMean, Span<double> cross)
    {
        var nn = n * n;
        Span<double> previousMean = stackalloc double[n];
        previousMean.Clear();
        for (var j = 0; j < k; j++)
        {
            Accumulate(predicted[j], mixedMeans.Slice(j * n, n), previousMean);
        }

        cross.Clear();
        for (var j = 0; j < k; j++)
        {
            var w = predicted[j];
            if (w == 0.0)
            {
                continue;
            }

            var x0 = mixedMeans.Slice(j * n, n);
            var xp = modeEstimates[j].PredictedMean;
            var part = crossParts.Slice(j * nn, nn);
            for (var a = 0; a < n; a++)
            {
                var da = x0[a] - previousMean[a];
                for (var b = 0; b < n; b++)
                {
                    cross[(a * n) + b] += w * (part[(a * n) + b] + (da * (xp[b] - predictedMean[b])));
                }
            }
        }
    }

    private void Combine(Estimate[] modeEstimates, ReadOnlySpan<double> predicted, ReadOnlySpan<double> probabilities, Estimate estimate)
    {
        estimate.PredictedMean.AsSpan().Clear();
        estimate.PredictedCovariance.AsSpan().Clear();
        estimate.ObservationMean.AsSpan().Clear();
        estimate.ObservationCovariance.AsSpan().Clear();
        estimate.StateMean.AsSpan().Clear();
        estimate.StateCovariance.AsSpan().Clear();
        for (var j = 0; j < k; j++)
        {
            var e = modeEstimates[j];
            Accumulate(predicted[j], e.PredictedMean, estimate.PredictedMean);
            Accumulate(predicted[j], e.ObservationMean, estimate.ObservationMean);
            Accumulate(probabilities[j], e.StateMean, estimate.StateMean);
        }

        for (var j = 0; j < k; j++)
        {
            var e = modeEstimates[j];
            AccumulateCovariance(predicted[j], e.PredictedMean, e.PredictedCovariance, estimate.PredictedMean, estimate.PredictedCovariance, n);
            AccumulateCovariance(predicted[j], e.ObservationMean, e.ObservationCovariance, estimate.ObservationMean, estimate.ObservationCovariance, m);
            AccumulateCovariance(probabilities[j], e.StateMean, e.StateCovariance, estimate.StateMean, estimate.StateCovariance, n);
        }
    }

    private static void Accumulate(double w, ReadOnlySpan<double> x, Span<double> target)
    {
        if (w == 0.0)
        {
            return;
        }

        for (var a = 0; a < x.Length; a++)
        {
            target[a] += w * x[a];
        }
    }

    private static void AccumulateCovariance(double w, ReadOnlySpan<double> x, ReadOnlySpan<double> p, ReadOnlySpan<double> mean, Span<double> target, int dim)
    {
        if (w == 0.0)
        {
            return;
        }

        for (var a = 0; a < dim; a++)
        {
            var da = x[a] - mean[a];
            for (var b = 0; b < dim; b++)
            {
                target[(a * dim) + b] += w * (p[(a * dim) + b] + (da * (x[b] - mean[b])));
            }
        }
    }

    private double InnovationSquared(ReadOnlySpan<double> y, Estimate estimate)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        Span<int> observed = stackalloc int[m];
        var count = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[count++] = i;
            }
        }

        var s = arena.Take(count * count);
        var v = arena.Take(count);
        for (var a = 0; a < count; a++)
        {
            v[a] = y[observed[a]] - estimate.ObservationMean[observed[a]];
            for (var b = 0; b < count; b++)
            {
                s[(a * count) + b] = estimate.ObservationCovariance[(observed[a] * m) + observed[b]];
            }
        }

        var nis = double.NaN;
        if (Dense.Cholesky(s, count))
        {
            Dense.ForwardSubstitute(s, count, v);
            nis = 0.0;
            foreach (var z in v)
            {
                nis += z * z;
            }
        }

        arena.Release(mark);
        return nis;
    }

    private void Restart(Span<double> state, Estimate estimate)
    {
        Initialize(state, 0);
        estimate.Flags |= EstimateFlags.Reinitialized;
        estimate.LogLikelihood = double.NaN;
        estimate.NormalizedInnovationSquared = double.NaN;
        estimate.ObservedCount = 0;
        ReadState(state, estimate.StateMean, estimate.StateCovariance);
        estimate.StateMean.CopyTo(estimate.PredictedMean, 0);
        estimate.StateCovariance.CopyTo(estimate.PredictedCovariance, 0);
        estimate.ObservationMean.AsSpan().Clear();
        estimate.ObservationCovariance.AsSpan().Clear();
        var pi = model.InitialModeProbabilities;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var means = arena.Take(k * m);
        var covs = arena.Take(k * m * m);
        var hp = arena.Take(m * n);
        for (var j = 0; j < k; j++)
        {
            // Prior predictive of y under mode j: H a_1 + d and H P_1 H' + R.
            var mode = model.Modes[j];
            var yj = means.Slice(j * m, m);
            var sj = covs.Slice(j * m * m, m * m);
            Dense.MultiplyVector(mode.Observation, m, n, mode.InitialMean, yj);
            Dense.Sandwich(mode.Observation, m, n, mode.InitialCovariance, hp, sj);
            for (var a = 0; a < m; a++)
            {
                yj[a] += mode.ObservationOffset[a];
            }

            for (var a = 0; a < m * m; a++)
            {
                sj[a] += mode.ObservationNoise[a];
            }

            Accumulate(pi[j], yj, estimate.ObservationMean);
        }

        for (var j = 0; j < k; j++)
        {
            AccumulateCovariance(pi[j], means.Slice(j * m, m), covs.Slice(j * m * m, m * m), estimate.ObservationMean, estimate.ObservationCovariance, m);
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var copy = arena.Take(Info.StateLength);
        state[..Info.StateLength].CopyTo(copy);
        var missing = arena.Take(m);
        missing.Fill(double.NaN);
        var e = Buffers()[k];
        for (var h = 1; h <= forecast.MaxHorizon; h++)
        {
            Step(copy, new Observation(missing, stepGap), e, default);
            e.PredictedMean.CopyTo(forecast.StateMeanAt(h));
            e.PredictedCovariance.CopyTo(forecast.StateCovarianceAt(h));
            e.ObservationMean.CopyTo(forecast.ObservationMeanAt(h));
            e.ObservationCovariance.CopyTo(forecast.ObservationCovarianceAt(h));
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        var probabilities = state.Slice(ProbabilitiesSlot, k);
        mean[..n].Clear();
        covariance[..(n * n)].Clear();
        for (var j = 0; j < k; j++)
        {
            Accumulate(probabilities[j], ModeMean(state, j), mean);
        }

        for (var j = 0; j < k; j++)
        {
            AccumulateCovariance(probabilities[j], ModeMean(state, j), ModeCovariance(state, j), mean, covariance, n);
        }
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        record[..(n + (n * n))].CopyTo(message);
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

    private Estimate[] Buffers()
    {
        var table = buffers ??= new ConditionalWeakTable<InteractingMultipleModelFilter, Estimate[]>();
        if (!table.TryGetValue(this, out var result))
        {
            result = new Estimate[k + 1];
            for (var j = 0; j < k; j++)
            {
                result[j] = new Estimate(filters[j].Info);
            }

            result[k] = new Estimate(Info);
            table.Add(this, result);
        }

        return result;
    }

    private Span<double> Mode(Span<double> state, int j) => state.Slice(modesSlot + (j * modeLength), modeLength);

    private Span<double> ModeMean(Span<double> state, int j) => state.Slice(modesSlot + (j * modeLength) + KalmanFilter.MeanOffset, n);

    private ReadOnlySpan<double> ModeMean(ReadOnlySpan<double> state, int j) => state.Slice(modesSlot + (j * modeLength) + KalmanFilter.MeanOffset, n);

    private Span<double> ModeCovariance(Span<double> state, int j) => state.Slice(modesSlot + (j * modeLength) + covarianceOffset, n * n);

    private ReadOnlySpan<double> ModeCovariance(ReadOnlySpan<double> state, int j) => state.Slice(modesSlot + (j * modeLength) + covarianceOffset, n * n);
}
