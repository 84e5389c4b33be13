using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Discrete;

/// <summary>
/// Online inference in a <see cref="HiddenMarkovModel"/>: the normalised (scaled) forward filter, an online Viterbi
/// decoder with a bounded traceback window, k-step forecasts and the backward step for fixed-lag and
/// fixed-interval smoothing.
/// </summary>
/// <remarks>
/// <para>Forward step: predicted p_t(j) = Σ_i f_{t−1}(i) A_ij (p_1 = π), emission b_t(k) = p(y_t | s_t = k),
/// log p(y_t | y_{1:t−1}) = M + log Σ_k p_t(k) e^{log b_t(k) − M} with M = max_k log b_t(k), and filtered
/// f_t(k) = p_t(k) b_t(k) / p(y_t | y_{1:t−1}). Working with log b and its maximum keeps the step exact for
/// observations far in the tails. A wholly missing observation only predicts (f_t = p_t, LogLikelihood = NaN).</para>
/// <para>The reported state is the one-hot encoding of s_t: mean = probabilities, covariance = diag(p) − p p'.
/// The observation moments are those of the mixture Σ_k p_t(k) p(y | k). Extras: <c>stateProbabilities</c> (f_t),
/// <c>viterbiHead</c> (argmax_k δ_t(k), the last state of the best path of y_{1:t}; a later reading can change
/// which state the best path passes through at t, so a sequence of heads is not a Viterbi path; named
/// <c>viterbiState</c> before) and <c>mostLikelyState</c> (argmax_k f_t(k)).</para>
/// <para>Viterbi: δ_t(j) = max_i [δ_{t−1}(i) + log A_ij] + log b_t(j), δ_1 = log π + log b_1, stored minus its
/// maximum (the subtracted total is kept, so <see cref="BestPathLogJoint"/> is log p(y_{1:t}, s*_{1:t})). The last
/// <see cref="ViterbiWindow"/> back-pointer columns stay in the state buffer, so <see cref="ReadViterbiPath"/>
/// traces the best path over that window at any time.</para>
/// <para>Backward step (record = filtered and predicted probabilities f_t, p_t, the back-pointers ψ_t and the head
/// argmax δ_t; message = smoothed probabilities and a state of the best path):
/// γ_t(i) = f_t(i) Σ_j A_ij γ_{t+1}(j) / p_{t+1}(j), and the Viterbi traceback s_t = ψ_{t+1}(s_{t+1}) started from
/// the head of the newest step. Over a whole series (fixed interval) the traced states are the Viterbi (MAP) path
/// argmax p(s_{1:T} | y_{1:T}); with a lag L they are the online fixed-lag decision: the state at t−L on the best path
/// of y_{1:t}. Both are the smoothed extra <c>viterbiState</c>.</para>
/// <para>Guard rails: an observation that is impossible in every state with positive probability, including one
/// outside the emission's support (a category out of range or fractional, a negative or fractional count), is skipped
/// (<see cref="EstimateFlags.ObservationSkipped"/>, the prediction carried forward) with LogLikelihood = −∞ and
/// NIS = +∞, as the Kalman filters score a reading their update cannot use. Non-finite probabilities re-initialise the
/// stream from π with this reading as the first (<see cref="EstimateFlags.Reinitialized"/>), or leave it at π when that
/// first step fails too.</para>
/// <para>Performance: with at most four states and univariate Gaussian emissions, steady-state steps run on a
/// vectorised kernel (one 256-bit vector per K-vector) that performs the same floating-point operations in the same
/// order, so results do not depend on which path ran; first steps, missing observations and every guard rail go
/// through the general code.</para>
/// </remarks>
[SkipLocalsInit]
public sealed class HiddenMarkovFilter : IEstimator, IBackwardStep, IRestartRecords
{
    /// <summary>Default number of back-pointer columns kept for the online Viterbi traceback.</summary>
    public const int DefaultViterbiWindow = 32;

    /// <summary>The most back-pointers (<c>viterbiWindow</c> × states) a stream's state may hold, as many as the largest particle filter's particles.</summary>
    internal const int MaxBackPointers = 10_000_000;

    private const int StepsSlot = 0;
    private const int OffsetSlot = 1;
    private const int HeadSlot = 2;
    private const int FilledSlot = 3;
    private const int ProbabilitySlot = 4;
    private const int StackLimit = 64;

    private readonly HiddenMarkovModel model;
    private readonly HmmEmission emission;
    private readonly GaussianEmission? gaussian;
    private readonly SmallHmmKernel? small;
    private readonly int k;
    private readonly int m;
    private readonly int deltaSlot;
    private readonly int pointerSlot;
    private readonly double[] transition;
    private readonly double[] logTransition;
    private readonly double[] initial;
    private readonly double[] logInitial;
    private readonly double[] stateMeans;
    private readonly double[] stateCovariances;
    private readonly bool univariate;

    /// <summary>Creates the filter.</summary>
    /// <param name="model">The model parameters.</param>
    /// <param name="viterbiWindow">Back-pointer columns kept in the state for the online Viterbi traceback (≥ 1).</param>
    public HiddenMarkovFilter(HiddenMarkovModel model, int viterbiWindow = DefaultViterbiWindow)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (viterbiWindow < 1)
        {
            throw new ModelValidationException("viterbiWindow", $"must be at least 1, got {viterbiWindow}.");
        }

        if ((long)viterbiWindow * model.StateCount > MaxBackPointers)
        {
            throw new ModelValidationException("viterbiWindow", $"must be at most {MaxBackPointers / model.StateCount:N0} with {model.StateCount} states (the state of every stream holds viterbiWindow x states back-pointers, at most {MaxBackPointers:N0}), got {viterbiWindow}.");
        }

        this.model = model;
        emission = model.Emission;
        gaussian = emission as GaussianEmission;
        k = model.StateCount;
        m = model.ObservationDimension;
        ViterbiWindow = viterbiWindow;
        deltaSlot = ProbabilitySlot + k;
        pointerSlot = deltaSlot + k;
        transition = model.Transition.ToArray();
        logTransition = model.LogTransition.ToArray();
        initial = model.InitialProbabilities.ToArray();
        logInitial = model.LogInitialProbabilities.ToArray();
        univariate = m == 1;
        small = SmallHmmKernel.TryCreate(model, viterbiWindow);
        stateMeans = new double[k * m];
        stateCovariances = new double[k * m * m];
        for (var s = 0; s < k; s++)
        {
            emission.Moments(s, stateMeans.AsSpan(s * m, m), stateCovariances.AsSpan(s * m * m, m * m));
        }

        Info = new EstimatorInfo
        {
            Family = "hmm",
            StateDimension = k,
            ObservationDimension = m,
            StateLength = pointerSlot + (viterbiWindow * k),
            BackwardRecordLength = (3 * k) + 1,
            SmoothingMessageLength = k + 1,
            Extras =
            [
                new ExtraField("stateProbabilities", k),
                new ExtraField("viterbiHead", 1, IsInteger: true),
                new ExtraField("mostLikelyState", 1, IsInteger: true),
            ],
            SmoothedExtras = [new ExtraField("viterbiState", 1, IsInteger: true)],
        };
    }

    /// <summary>The model parameters.</summary>
    public HiddenMarkovModel Model => model;

    /// <summary>Back-pointer columns kept for the online Viterbi traceback.</summary>
    public int ViterbiWindow { get; }

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        state[..Info.StateLength].Clear();
        initial.CopyTo(state.Slice(ProbabilitySlot, k));
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        if (small is not null && small.TryStep(state, observation.Values[0], estimate, backwardRecord))
        {
            return;
        }

        estimate.Reset();
        var first = state[StepsSlot] == 0.0;
        var filtered = state.Slice(ProbabilitySlot, k);
        var predicted = estimate.PredictedMean.AsSpan(0, k);

        // Predict: p_t = π at the first step, f_{t−1} A afterwards.
        double total;
        if (first)
        {
            initial.CopyTo(predicted);
            total = 1.0;
        }
        else
        {
            total = Propagate(filtered, predicted);
        }

        var valid = total > 0.5 && total < 1.5;
        ObservationMoments(predicted, estimate.ObservationMean, estimate.ObservationCovariance);

        var y = observation.Values;
        var observed = univariate ? (double.IsFinite(y[0]) ? 1 : 0) : HmmEmission.CountObserved(y[..m]);
        var large = k > StackLimit;
        var arena = large ? ScratchArena.Current : null;
        var mark = large ? arena!.Mark : 0;
        var work = large ? arena!.Take(2 * k) : stackalloc double[2 * k];
        var logB = work[..k];
        var useEmission = false;
        if (valid && observed > 0)
        {
            if (gaussian is not null)
            {
                // Sealed type: a direct call the JIT can inline on the hottest configuration.
                gaussian.LogDensities(y, logB);
            }
            else if (!emission.Accepts(y))
            {
                // Outside the support (a category out of range, a negative or fractional count): probability 0 in
                // every state, so it is scored below as any reading impossible in every live state is.
                logB.Fill(double.NegativeInfinity);
            }
            else
            {
                emission.LogDensities(y, logB);
            }

            var sum = Update(predicted, logB, filtered, estimate);
            useEmission = sum > 0.0;
            valid = !double.IsNaN(sum) && !double.IsInfinity(sum);
            if (sum == 0.0)
            {
                // Impossible in every live state: scored as the Kalman filters score a reading their update cannot
                // use (observed, NIS +infinity), so an NIS rule fires on it as a log-likelihood rule does.
                estimate.ObservedCount = observed;
                estimate.NormalizedInnovationSquared = double.PositiveInfinity;
            }

            if (useEmission)
            {
                estimate.ObservedCount = observed;
                if (univariate)
                {
                    var v = y[0] - estimate.ObservationMean[0];
                    var s = estimate.ObservationCovariance[0];
                    estimate.NormalizedInnovationSquared = double.IsInfinity(s) ? 0.0 : s > 0.0 ? v * v / s : double.NaN;
                }
                else
                {
                    estimate.NormalizedInnovationSquared = InnovationSquared(y, observed, estimate);
                }
            }
        }

        if (!useEmission)
        {
            predicted.CopyTo(filtered);
        }

        var viterbiState = ViterbiStep(state, first, useEmission ? logB : default, work.Slice(k, k), backwardRecord.IsEmpty ? default : backwardRecord.Slice(2 * k, k));
        arena?.Release(mark);

        if (!valid)
        {
            Initialize(state, 0);
            if (!first)
            {
                // The stream starts again from π with this reading as the first, as a stream does whose first reading
                // this is; when that fails too, it stays at π and the next reading is the first.
                Step(state, observation, estimate, backwardRecord);
                estimate.Flags |= EstimateFlags.Reinitialized;
                return;
            }

            estimate.Flags |= EstimateFlags.Reinitialized;
            estimate.LogLikelihood = double.NaN;
            estimate.NormalizedInnovationSquared = double.NaN;
            viterbiState = ArgMax(state.Slice(deltaSlot, k));
        }
        else
        {
            state[StepsSlot] += 1.0;
        }

        WriteOutputs(filtered, viterbiState, estimate);
        if (!backwardRecord.IsEmpty)
        {
            filtered.CopyTo(backwardRecord[..k]);
            predicted.CopyTo(backwardRecord.Slice(k, k));
            backwardRecord[3 * k] = viterbiState;
        }
    }

    /// <summary>
    /// After a re-initialised step: true when the stream started again from π with the reading assimilated as a first
    /// step (its record is a first step's, from which the next step predicts); false when it stayed at π (no step
    /// counted; the next reading is the stretch's first).
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => state[StepsSlot] > 0.0;

    /// <summary>
    /// Filtered update. Returns the normalising sum: positive on success, 0 when y is impossible in every state with
    /// positive predicted probability (skipped), NaN when the densities are not numbers.
    /// </summary>
    private double Update(ReadOnlySpan<double> predicted, Span<double> logB, Span<double> filtered, Estimate estimate)
    {
        var max = double.NegativeInfinity;
        for (var j = 0; j < k; j++)
        {
            var v = logB[j];
            if (predicted[j] > 0.0 && v > max)
            {
                max = v;
            }
        }

        if (!double.IsFinite(max))
        {
            estimate.Flags |= EstimateFlags.ObservationSkipped;
            estimate.LogLikelihood = double.IsNegativeInfinity(max) ? double.NegativeInfinity : double.NaN;
            return double.IsNegativeInfinity(max) ? 0.0 : double.NaN;
        }

        var sum = 0.0;
        for (var j = 0; j < k; j++)
        {
            // The same exponential as the small-K kernel, so both paths give identical numbers. A state the chain cannot
            // be in takes no part: its density relative to the live states' largest may overflow to +∞, and 0 · ∞ is
            // NaN (a reading on the mean of a state not reachable yet restarted the stream from π).
            var w = predicted[j] > 0.0 ? predicted[j] * InlineMath.Exp(logB[j] - max) : 0.0;
            filtered[j] = w;
            sum += w;
        }

        var inverse = 1.0 / sum;
        for (var j = 0; j < k; j++)
        {
            filtered[j] *= inverse;
        }

        estimate.LogLikelihood = max + InlineMath.Log(sum);
        return sum;
    }

    /// <summary>One Viterbi recursion; returns argmax_k δ_t(k) (lowest index on ties). The back-pointers also go to
    /// <paramref name="recordPointers"/> when it is not empty.</summary>
    private int ViterbiStep(Span<double> state, bool first, ReadOnlySpan<double> logB, Span<double> next, Span<double> recordPointers)
    {
        var delta = state.Slice(deltaSlot, k);
        var head = (int)state[HeadSlot];
        var pointers = state.Slice(pointerSlot + (head * k), k);
        if (first)
        {
            for (var j = 0; j < k; j++)
            {
                next[j] = logInitial[j];
                pointers[j] = -1.0;
            }
        }
        else
        {
            for (var j = 0; j < k; j++)
            {
                var best = double.NegativeInfinity;
                var arg = 0;
                for (var i = 0; i < k; i++)
                {
                    var v = delta[i] + logTransition[(i * k) + j];
                    var better = v > best;
                    best = better ? v : best;
                    arg = better ? i : arg;
                }

                next[j] = best;
                pointers[j] = arg;
            }
        }

        if (!logB.IsEmpty)
        {
            for (var j = 0; j < k; j++)
            {
                next[j] += logB[j];
            }
        }

        var max = next[0];
        var argMax = 0;
        for (var j = 1; j < k; j++)
        {
            var better = next[j] > max;
            max = better ? next[j] : max;
            argMax = better ? j : argMax;
        }

        for (var j = 0; j < k; j++)
        {
            delta[j] = next[j] - max;
        }

        if (!recordPointers.IsEmpty)
        {
            pointers.CopyTo(recordPointers);
        }

        state[OffsetSlot] += max;
        state[HeadSlot] = head + 1 == ViterbiWindow ? 0 : head + 1;
        if (state[FilledSlot] < ViterbiWindow)
        {
            state[FilledSlot] += 1.0;
        }

        return argMax;
    }

    private void WriteOutputs(ReadOnlySpan<double> filtered, int viterbiState, Estimate estimate)
    {
        OneHotCovariance(estimate.PredictedMean, estimate.PredictedCovariance);
        OneHotCovariance(filtered, estimate.StateCovariance);
        var mean = estimate.StateMean.AsSpan(0, k);
        var extras = estimate.Extras.AsSpan(0, k + 2);
        var best = 0;
        for (var j = 0; j < k; j++)
        {
            // Element loops: K is small, and a call to a block copy would cost more than the copy.
            var f = filtered[j];
            mean[j] = f;
            extras[j] = f;
            best = f > filtered[best] ? j : best;
        }

        extras[k] = viterbiState;
        extras[k + 1] = best;
    }

    /// <summary>to = from · A; returns Σ to.</summary>
    private double Propagate(ReadOnlySpan<double> from, Span<double> to)
    {
        var f0 = from[0];
        var row0 = transition.AsSpan(0, k);
        for (var j = 0; j < k; j++)
        {
            to[j] = f0 * row0[j];
        }

        for (var i = 1; i < k; i++)
        {
            var fi = from[i];
            if (fi == 0.0)
            {
                continue;
            }

            var row = transition.AsSpan(i * k, k);
            for (var j = 0; j < k; j++)
            {
                to[j] += fi * row[j];
            }
        }

        var sum = 0.0;
        foreach (var v in to)
        {
            sum += v;
        }

        return sum;
    }

    private void ObservationMoments(ReadOnlySpan<double> p, Span<double> mean, Span<double> covariance)
    {
        // Centred (two-pass) form Σ_k p_k (Σ_k + (μ_k − m)(μ_k − m)'): E[y y'] − m m' would cancel catastrophically
        // when the means are large next to the spread (means near 1e8 with unit variances lose every digit).
        if (univariate)
        {
            var first = 0.0;
            for (var s = 0; s < k; s++)
            {
                var ps = p[s];
                if (ps == 0.0)
                {
                    continue;
                }

                first += ps * stateMeans[s];
            }

            var variance = 0.0;
            for (var s = 0; s < k; s++)
            {
                var ps = p[s];
                if (ps == 0.0)
                {
                    continue;
                }

                // The same operations as the small-K kernel, so both paths give identical numbers.
                var d = stateMeans[s] - first;
                variance += ps * (stateCovariances[s] + (d * d));
            }

            mean[0] = first;
            covariance[0] = double.IsInfinity(variance) ? variance : Math.Max(variance, 0.0);
            return;
        }

        var mm = m * m;
        mean[..m].Clear();
        covariance[..mm].Clear();
        for (var s = 0; s < k; s++)
        {
            var ps = p[s];
            if (ps == 0.0)
            {
                continue;
            }

            for (var i = 0; i < m; i++)
            {
                mean[i] += ps * stateMeans[(s * m) + i];
            }
        }

        for (var s = 0; s < k; s++)
        {
            var ps = p[s];
            if (ps == 0.0)
            {
                continue;
            }

            var mu = stateMeans.AsSpan(s * m, m);
            var sigma = stateCovariances.AsSpan(s * mm, mm);
            for (var i = 0; i < m; i++)
            {
                var di = mu[i] - mean[i];
                for (var j = 0; j < m; j++)
                {
                    covariance[(i * m) + j] += ps * (sigma[(i * m) + j] + (di * (mu[j] - mean[j])));
                }
            }
        }

        Dense.Symmetrize(covariance, m);
    }

    /// <summary>v' S⁻¹ v over the observed components, with S the predictive (mixture) covariance.</summary>
    private double InnovationSquared(ReadOnlySpan<double> y, int observed, Estimate estimate)
    {
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        if (univariate)
        {
            var v = y[0] - om[0];
            var s = oc[0];
            return double.IsInfinity(s) ? 0.0 : s > 0.0 ? v * v / s : double.NaN;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var l = arena.Take(observed * observed);
        var z = arena.Take(observed);
        var a = 0;
        for (var i = 0; i < m; i++)
        {
            if (!double.IsFinite(y[i]))
            {
                continue;
            }

            z[a] = y[i] - om[i];
            var b = 0;
            for (var j = 0; j < m; j++)
            {
                if (double.IsFinite(y[j]))
                {
                    l[(a * observed) + b++] = oc[(i * m) + j];
                }
            }

            a++;
        }

        var result = double.NaN;
        if (!Dense.AllFinite(l))
        {
            result = 0.0;
        }
        else if (Dense.Cholesky(l, observed))
        {
            Dense.ForwardSubstitute(l, observed, z);
            result = 0.0;
            foreach (var v in z)
            {
                result += v * v;
            }
        }

        arena.Release(mark);
        return result;
    }

    private void OneHotCovariance(ReadOnlySpan<double> p, Span<double> covariance)
    {
        for (var i = 0; i < k; i++)
        {
            var pi = p[i];
            var row = covariance.Slice(i * k, k);
            for (var j = 0; j < k; j++)
            {
                row[j] = -pi * p[j];
            }

            row[i] += pi;
        }
    }

    private static int ArgMax(ReadOnlySpan<double> values)
    {
        var arg = 0;
        var best = values[0];
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > best)
            {
                best = values[i];
                arg = i;
            }
        }

        return arg;
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var p = arena.Take(k);
        var next = arena.Take(k);
        state.Slice(ProbabilitySlot, k).CopyTo(p);
        var noTransitionYet = state[StepsSlot] == 0.0;
        for (var h = 1; h <= forecast.MaxHorizon; h++)
        {
            if (h > 1 || !noTransitionYet)
            {
                Propagate(p, next);
                next.CopyTo(p);
            }

            p.CopyTo(forecast.StateMeanAt(h));
            OneHotCovariance(p, forecast.StateCovarianceAt(h));
            ObservationMoments(p, forecast.ObservationMeanAt(h), forecast.ObservationCovarianceAt(h));
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        var p = state.Slice(ProbabilitySlot, k);
        p.CopyTo(mean);
        OneHotCovariance(p, covariance);
    }

    /// <summary>Number of observations the stream has seen.</summary>
    public static long StepCount(ReadOnlySpan<double> state) => (long)state[StepsSlot];

    /// <summary>log p(y_{1:t}, s*_{1:t}): the joint log-density of the data and the best state path so far.</summary>
    public static double BestPathLogJoint(ReadOnlySpan<double> state) => state[OffsetSlot];

    /// <summary>
    /// Writes δ_t(k) = max over s_{1:t−1} of log p(y_{1:t}, s_{1:t−1}, s_t = k) for every state k.
    /// </summary>
    public void ReadViterbiScores(ReadOnlySpan<double> state, Span<double> logDelta)
    {
        var offset = state[OffsetSlot];
        var delta = state.Slice(deltaSlot, k);
        for (var j = 0; j < k; j++)
        {
            logDelta[j] = delta[j] + offset;
        }
    }

    /// <summary>
    /// Traces the best state path ending now back through the stored window: writes the MAP states of the last
    /// min(t, <see cref="ViterbiWindow"/>) steps (oldest first) and returns how many were written.
    /// </summary>
    /// <remarks>These are the last entries of the batch Viterbi path of y_{1:t}: the back-pointers are the same, the
    /// window only bounds how far back they are kept.</remarks>
    public int ReadViterbiPath(ReadOnlySpan<double> state, Span<int> path)
    {
        var filled = (int)state[FilledSlot];
        if (filled == 0)
        {
            return 0;
        }

        if (path.Length < filled)
        {
            throw new ArgumentException($"path needs room for {filled} states.", nameof(path));
        }

        var head = (int)state[HeadSlot];
        var current = ArgMax(state.Slice(deltaSlot, k));
        path[filled - 1] = current;
        for (var back = 0; back < filled - 1; back++)
        {
            var column = (head - 1 - back + (2 * ViterbiWindow)) % ViterbiWindow;
            current = (int)state[pointerSlot + (column * k) + current];
            path[filled - 2 - back] = current;
        }

        return filled;
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        record[..k].CopyTo(message);
        message[k] = record[3 * k];
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        var filtered = record[..k];
        var nextPredicted = nextRecord.Slice(k, k);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var ratio = arena.Take(k);
        for (var j = 0; j < k; j++)
        {
            ratio[j] = nextPredicted[j] > 0.0 ? message[j] / nextPredicted[j] : 0.0;
        }

        var sum = 0.0;
        for (var i = 0; i < k; i++)
        {
            var row = transition.AsSpan(i * k, k);
            var s = 0.0;
            for (var j = 0; j < k; j++)
            {
                s += row[j] * ratio[j];
            }

            var g = filtered[i] * s;
            message[i] = g;
            sum += g;
        }

        if (sum > 0.0)
        {
            var inverse = 1.0 / sum;
            for (var i = 0; i < k; i++)
            {
                message[i] *= inverse;
            }
        }

        // Viterbi traceback: the best path's state at t is the back-pointer of step t+1 from its state there.
        message[k] = nextRecord[(2 * k) + (int)message[k]];
        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        message[..k].CopyTo(mean);
        OneHotCovariance(message[..k], covariance);
    }

    /// <inheritdoc />
    public void ReadSmoothedExtras(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> extras)
    {
        SpanChecks.ReadSmoothedExtras(record, message, extras, Info);
        extras[0] = message[k];
    }
}
