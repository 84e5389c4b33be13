using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Discrete;

/// <summary>Batch inference over a finished sequence: scaled forward–backward and the Viterbi algorithm.</summary>
/// <remarks>
/// <para>Forward–backward (Rabiner's scaling, with emissions taken relative to their per-step maximum M_t):
/// e_t(k) = exp(log b_t(k) − M_t), c_t = Σ_k p_t(k) e_t(k), f_t = p_t ∘ e_t / c_t,
/// log p(y_t | y_{1:t−1}) = M_t + log c_t; β̂_T = 1, β̂_t(i) = Σ_j A_ij e_{t+1}(j) β̂_{t+1}(j) / c_{t+1};
/// γ_t = f_t ∘ β̂_t and ξ_t(i, j) = f_{t−1}(i) A_ij e_t(j) β̂_t(j) / c_t. Missing or skipped steps have e = 1. A
/// skipped step is a reading impossible in every state with positive predicted probability (one outside the emission's
/// support among them): its log p(y_t | y_{1:t−1}) is −∞, as the filter scores it, so the sequence's log-likelihood is
/// −∞ too; a missing step's is NaN and adds nothing. A state with predicted probability 0 takes no part in the
/// scaling (its relative e may overflow); a log α or log β whose scaled value underflows or overflows (a state far less
/// likely than the others, or one the chain cannot be in) is summed in log space from its neighbour step instead, so it
/// stays the finite log-density it is.</para>
/// <para>Viterbi in log space: δ_1 = log π + log b_1, δ_t(j) = max_i [δ_{t−1}(i) + log A_ij] + log b_t(j); ties go to
/// the lowest state index. Steps that forward–backward skips are skipped here too (no emission term): missing
/// readings, readings outside the support, and readings impossible in every state a path can reach.</para>
/// </remarks>
public static class HmmInference
{
    /// <summary>Runs forward–backward on one sequence.</summary>
    public static HmmPosterior ForwardBackward(HiddenMarkovModel model, ObservationSeries series)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(series);
        CheckDimension(model, series);
        var k = model.StateCount;
        var t = series.Length;
        var result = new HmmPosterior(t, k);
        var a = model.Transition;
        var e = new double[t * k];
        var logEmission = new double[t * k];
        var logScale = new double[t];
        var scale = new double[t];
        var logB = new double[k];
        var cumulative = 0.0;
        var total = 0.0;
        for (var s = 0; s < t; s++)
        {
            var pred = result.Predicted.AsSpan(s * k, k);
            if (s == 0)
            {
                model.InitialProbabilities.CopyTo(pred);
            }
            else
            {
                var prev = result.Filtered.AsSpan((s - 1) * k, k);
                for (var j = 0; j < k; j++)
                {
                    var v = 0.0;
                    for (var i = 0; i < k; i++)
                    {
                        v += prev[i] * a[(i * k) + j];
                    }

                    pred[j] = v;
                }
            }

            var es = e.AsSpan(s * k, k);
            var max = EmissionTerms(model, series.At(s).Values, pred, logB);
            var c = 0.0;
            var filt = result.Filtered.AsSpan(s * k, k);
            for (var j = 0; j < k; j++)
            {
                // log b relative to the largest over the states the chain can be in: a state it cannot be in may have a
                // far larger density, whose relative e overflows to +∞, so it takes no part (0 · ∞ was NaN: a reading
                // on the mean of a state not reachable yet turned every probability into NaN).
                logEmission[(s * k) + j] = double.IsFinite(max) ? logB[j] : 0.0;
                es[j] = double.IsFinite(max) ? Math.Exp(logB[j] - max) : 1.0;
                filt[j] = pred[j] > 0.0 ? pred[j] * es[j] : 0.0;
                c += filt[j];
            }

            for (var j = 0; j < k; j++)
            {
                filt[j] /= c;
            }

            scale[s] = c;
            logScale[s] = double.IsFinite(max) ? max + Math.Log(c) : 0.0;

            // Scored as the filter scores it: NaN for a missing reading, −∞ for an impossible one (skipped all the same).
            result.LogPredictiveDensity[s] = double.IsFinite(max) ? logScale[s] : max;
            if (!double.IsNaN(max))
            {
                total += result.LogPredictiveDensity[s];
            }

            cumulative += logScale[s];
            for (var j = 0; j < k; j++)
            {
                // log f + the scales is exact while f is a normal double; a probability that underflowed (a state far
                // less likely than the others, or one the chain cannot be in) still has a finite log α, summed in logs.
                result.LogAlpha[(s * k) + j] = double.IsNormal(filt[j])
                    ? Math.Log(filt[j]) + cumulative
                    : LogSumInLogSpace(s == 0 ? default : result.LogAlpha.AsSpan((s - 1) * k, k), s == 0 ? model.LogInitialProbabilities : default, model.LogTransition, j, column: true) + logEmission[(s * k) + j];
            }
        }

        result.LogLikelihood = total;
        result.ScoredLogLikelihood = cumulative;

        // Backward pass with the same scaling.
        var beta = new double[k];
        var next = new double[k];
        Array.Fill(beta, 1.0);
        var future = 0.0;
        for (var s = t - 1; s >= 0; s--)
        {
            if (s < t - 1)
            {
                var en = e.AsSpan((s + 1) * k, k);
                var cn = scale[s + 1];
                var filt = result.Filtered.AsSpan(s * k, k);
                for (var i = 0; i < k; i++)
                {
                    var v = 0.0;
                    var exact = true;
                    for (var j = 0; j < k; j++)
                    {
                        // Only transitions that can happen. e and β̂ of a state the chain cannot be in at s + 1 may
                        // overflow (see the forward pass) or underflow, and 0 · ∞ is NaN: such a term leaves v inexact
                        // (its log β is then summed in logs below); it never matters to a state the chain can be in. A
                        // term whose b or β is exactly 0 (log −∞: a reading state j cannot have) adds exactly nothing.
                        var impossible = double.IsNegativeInfinity(logEmission[((s + 1) * k) + j]) || double.IsNegativeInfinity(result.LogBeta[((s + 1) * k) + j]);
                        if (a[(i * k) + j] > 0.0 && !impossible)
                        {
                            if (double.IsNormal(en[j]) && double.IsNormal(beta[j]))
                            {
                                var w = a[(i * k) + j] * en[j] * beta[j] / cn;
                                v += w;
                                result.ExpectedTransitionCounts[(i * k) + j] += filt[i] > 0.0 ? filt[i] * w : 0.0;
                            }
                            else
                            {
                                exact = false;
                            }
                        }
                    }

                    next[i] = exact ? v : double.NaN;
                }

                next.CopyTo(beta, 0);
                future += logScale[s + 1];
            }

            var smooth = result.Smoothed.AsSpan(s * k, k);
            var norm = 0.0;
            for (var i = 0; i < k; i++)
            {
                if (s < t - 1 && !double.IsNormal(beta[i]))
                {
                    // β̂ lost to overflow or underflow: log β_s(i) = log Σ_j A_ij b_{s+1}(j) β_{s+1}(j), in logs from the
                    // next step's, and β̂ from it (0 or ∞ again when out of range, which the next step back sees).
                    var logBeta = LogSumInLogSpace(result.LogBeta.AsSpan((s + 1) * k, k), logEmission.AsSpan((s + 1) * k, k), model.LogTransition, i, column: false);
                    result.LogBeta[(s * k) + i] = logBeta;
                    beta[i] = Math.Exp(logBeta - future);
                }
                else
                {
                    result.LogBeta[(s * k) + i] = Math.Log(beta[i]) + future;
                }

                var f = result.Filtered[(s * k) + i];
                smooth[i] = f > 0.0 ? f * beta[i] : 0.0;
                norm += smooth[i];
            }

            for (var i = 0; i < k; i++)
            {
                smooth[i] /= norm;
            }
        }

        return result;
    }

    /// <summary>
    /// A log-space sum for a log α or log β whose scaled value left the doubles: with <paramref name="column"/>,
    /// log Σ_i exp(x_i + y_i + log A_ij) over the previous step's log α (x) for state j = <paramref name="index"/>, or
    /// log π_j when x is empty (the first step, y = π's logs); otherwise log Σ_j exp(x_j + y_j + log A_ij) over the next
    /// step's log β (x) and log b (y, 0 for a step without an emission term) for state i = <paramref name="index"/>.
    /// </summary>
    private static double LogSumInLogSpace(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> logA, int index, bool column)
    {
        if (x.IsEmpty)
        {
            return y[index];
        }

        var k = x.Length;
        Span<double> terms = k <= 64 ? stackalloc double[k] : new double[k];
        var max = double.NegativeInfinity;
        for (var m = 0; m < k; m++)
        {
            terms[m] = x[m] + (y.IsEmpty ? 0.0 : y[m]) + (column ? logA[(m * k) + index] : logA[(index * k) + m]);
            max = Math.Max(max, terms[m]);
        }

        if (!double.IsFinite(max))
        {
            return max;
        }

        var sum = 0.0;
        foreach (var term in terms)
        {
            sum += Math.Exp(term - max);
        }

        return max + Math.Log(sum);
    }

    /// <summary>Runs the Viterbi algorithm on one sequence.</summary>
    public static ViterbiResult Viterbi(HiddenMarkovModel model, ObservationSeries series)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(series);
        CheckDimension(model, series);
        var k = model.StateCount;
        var t = series.Length;
        var delta = new double[t * k];
        var pointers = new int[t * k];
        var logB = new double[k];
        var logA = model.LogTransition;
        var reachable = new double[k];
        for (var s = 0; s < t; s++)
        {
            var d = delta.AsSpan(s * k, k);
            for (var j = 0; j < k; j++)
            {
                double best;
                if (s == 0)
                {
                    best = model.LogInitialProbabilities[j];
                }
                else
                {
                    best = double.NegativeInfinity;
                    var arg = 0;
                    for (var i = 0; i < k; i++)
                    {
                        var v = delta[((s - 1) * k) + i] + logA[(i * k) + j];
                        if (v > best)
                        {
                            best = v;
                            arg = i;
                        }
                    }

                    pointers[(s * k) + j] = arg;
                }

                d[j] = best;
                reachable[j] = best > double.NegativeInfinity ? 1.0 : 0.0;
            }

            // The emission counts only if some reachable state can produce y (as in the filter and ForwardBackward):
            // a reading impossible in all of them is skipped, not allowed to make every path impossible.
            var max = EmissionTerms(model, series.At(s).Values, reachable, logB);
            if (double.IsFinite(max))
            {
                for (var j = 0; j < k; j++)
                {
                    d[j] += logB[j];
                }
            }
        }

        var path = new int[t];
        if (t == 0)
        {
            return new ViterbiResult(path, 0.0, delta);
        }

        var last = delta.AsSpan((t - 1) * k, k);
        var state = 0;
        for (var j = 1; j < k; j++)
        {
            if (last[j] > last[state])
            {
                state = j;
            }
        }

        var logJoint = last[state];
        path[t - 1] = state;
        for (var s = t - 1; s > 0; s--)
        {
            state = pointers[(s * k) + state];
            path[s - 1] = state;
        }

        return new ViterbiResult(path, logJoint, delta);
    }

    /// <summary>
    /// Fills log b_t(k) and returns M_t = max over states with positive weight: NaN when the reading is wholly
    /// missing, −∞ when it is impossible in every such state (outside the emission's support among them), as the
    /// filter scores it. Either way the step has no usable emission and is skipped.
    /// </summary>
    internal static double EmissionTerms(HiddenMarkovModel model, ReadOnlySpan<double> y, ReadOnlySpan<double> weights, Span<double> logB)
    {
        var emission = model.Emission;
        if (HmmEmission.CountObserved(y[..emission.ObservationDimension]) == 0)
        {
            return double.NaN;
        }

        if (!emission.Accepts(y))
        {
            return double.NegativeInfinity;
        }

        emission.LogDensities(y, logB);
        var max = double.NegativeInfinity;
        for (var j = 0; j < logB.Length; j++)
        {
            if (weights[j] > 0.0 && logB[j] > max)
            {
                max = logB[j];
            }
        }

        // NaN densities are never the maximum, so a reading with no positive density in a weighted state gives −∞;
        // +∞ (a degenerate density) gives NaN, as the filter scores it.
        return double.IsPositiveInfinity(max) ? double.NaN : max;
    }

    private static void CheckDimension(HiddenMarkovModel model, ObservationSeries series)
    {
        if (series.Dimension != model.ObservationDimension)
        {
            throw new ArgumentException($"the series has {series.Dimension} components per step but the model observes {model.ObservationDimension}.", nameof(series));
        }
    }
}
