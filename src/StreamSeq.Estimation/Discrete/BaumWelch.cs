using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;

namespace StreamSeq.Estimation.Discrete;

/// <summary>
/// Baum–Welch (expectation-maximisation) for hidden Markov models over one or more sequences with missing data.
/// </summary>
/// <remarks>
/// <para>E-step: forward–backward on each sequence gives γ_t(k) = P(s_t = k | y) and
/// ξ_t(i, j) = P(s_{t−1} = i, s_t = j | y). M-step: π = the average of γ_1 over sequences,
/// A_ij = Σ ξ_t(i, j) / Σ_j Σ ξ_t(i, j), and the emission's own update (see each emission type). A missing step
/// contributes no emission term (its likelihood is 1), so it still carries the chain through time but adds nothing
/// to the emission statistics; a partly missing multivariate observation contributes its conditional expectations.</para>
/// <para>A reading outside the emission's support (a category out of range or fractional, a negative or fractional
/// count) has probability 0 under every parameter value, so it says nothing about them: the fit leaves it out, exactly
/// as if it were missing, and the log-likelihood it maximises and reports is the one over the other readings
/// (<see cref="HmmInference.ForwardBackward"/>'s total for such a sequence is −∞). A reading inside the support that the
/// starting model makes impossible in every state is refused instead: the fit names it and asks for closer starting
/// values.</para>
/// <para>Parameters are named like spec fields: <c>initialProbabilities</c>, <c>transition</c>, <c>emission</c>
/// (every emission parameter) or <c>emission.&lt;field&gt;</c> (for example <c>emission.means</c>); the others stay
/// fixed. A transition row whose state is never visited keeps its old values.</para>
/// </remarks>
public static class BaumWelch
{
    /// <summary>Iterates EM until the log-likelihood gain is below <see cref="FitOptions.Tolerance"/>.</summary>
    public static BaumWelchResult Fit(HiddenMarkovModel start, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(sequences);
        options ??= new FitOptions();
        var selection = Selection.Parse(start.Emission, parameters);
        CheckEveryReadingPossible(start, sequences);
        var model = start;
        var previous = double.NegativeInfinity;
        for (var iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            var (next, loglik) = Iterate(model, sequences, selection);
            options.Progress?.Report(new FitProgress(iteration, options.MaxIterations, loglik));
            if (Math.Abs(loglik - previous) < options.Tolerance)
            {
                return new BaumWelchResult(next, Evaluate(next, sequences), iteration, true);
            }

            previous = loglik;
            model = next;
        }

        return new BaumWelchResult(model, Evaluate(model, sequences), options.MaxIterations, false);
    }

    /// <summary>One EM iteration: the updated model and the log-likelihood of <paramref name="model"/> (its E-step).</summary>
    public static (HiddenMarkovModel Model, double LogLikelihood) Iterate(HiddenMarkovModel model, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        return Iterate(model, sequences, Selection.Parse(model.Emission, parameters));
    }

    /// <summary>
    /// log p(y) of the model summed over sequences, over the readings inside the emission's support (readings outside
    /// it are left out, as in the fit); the quantity Baum–Welch maximises and reports.
    /// </summary>
    public static double Evaluate(HiddenMarkovModel model, IReadOnlyList<ObservationSeries> sequences)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        var total = 0.0;
        foreach (var s in sequences)
        {
            total += HmmInference.ForwardBackward(model, s).ScoredLogLikelihood;
        }

        return total;
    }

    private static (HiddenMarkovModel Model, double LogLikelihood) Iterate(HiddenMarkovModel model, IReadOnlyList<ObservationSeries> sequences, Selection selection)
    {
        var k = model.StateCount;
        var emission = model.Emission;
        var initial = new double[k];
        var counts = new double[k * k];
        var statistics = new double[emission.StatisticsLength];
        var used = 0;
        var loglik = 0.0;
        foreach (var series in sequences)
        {
            if (series.Length == 0)
            {
                continue;
            }

            var posterior = HmmInference.ForwardBackward(model, series);
            // The total over the scored readings: one outside the support would make the sum −∞ at every iteration.
            loglik += posterior.ScoredLogLikelihood;
            used++;
            for (var i = 0; i < k; i++)
            {
                initial[i] += posterior.Smoothed[i];
            }

            for (var i = 0; i < k * k; i++)
            {
                counts[i] += posterior.ExpectedTransitionCounts[i];
            }

            for (var t = 0; t < series.Length; t++)
            {
                if (!double.IsFinite(posterior.LogPredictiveDensity[t]))
                {
                    continue;
                }

                emission.Accumulate(statistics, series.At(t).Values, posterior.Smoothed.AsSpan(t * k, k));
            }
        }

        if (used == 0)
        {
            return (model, loglik);
        }

        double[]? pi = null;
        if (selection.Initial)
        {
            pi = new double[k];
            for (var i = 0; i < k; i++)
            {
                pi[i] = initial[i] / used;
            }

            Normalize(pi);
        }

        double[]? a = null;
        if (selection.Transition)
        {
            a = model.Transition.ToArray();
            for (var i = 0; i < k; i++)
            {
                var row = counts.AsSpan(i * k, k);
                var total = 0.0;
                foreach (var c in row)
                {
                    total += c;
                }

                if (total > 0.0)
                {
                    for (var j = 0; j < k; j++)
                    {
                        a[(i * k) + j] = row[j] / total;
                    }

                    Normalize(a.AsSpan(i * k, k));
                }
            }
        }

        var nextEmission = selection.Emission.Count > 0 ? emission.Maximize(statistics, selection.Emission) : emission;
        return (model.With(pi, a, nextEmission), loglik);
    }

    /// <summary>
    /// Inference skips a reading that no state can have produced (its density underflows to 0 in every state, as for
    /// 1e300 with unit variances): EM then fitted the rest and reported a log-likelihood of 0 for a file of such
    /// readings. A fit must explain every reading, so the starting model is rejected, as the Kalman EM rejects a
    /// starting model whose filter diverges.
    /// </summary>
    private static void CheckEveryReadingPossible(HiddenMarkovModel model, IReadOnlyList<ObservationSeries> sequences)
    {
        var emission = model.Emission;
        var logB = new double[model.StateCount];
        for (var s = 0; s < sequences.Count; s++)
        {
            var series = sequences[s];
            if (series.Length == 0)
            {
                continue;
            }

            var density = HmmInference.ForwardBackward(model, series).LogPredictiveDensity;
            for (var t = 0; t < series.Length; t++)
            {
                var y = series.At(t).Values;
                if (!double.IsFinite(density[t]) && HmmEmission.CountObserved(y[..emission.ObservationDimension]) > 0 && emission.Accepts(y))
                {
                    throw new ModelValidationException("fit", $"the starting model gives reading {t + 1} of sequence {s} zero density in every state (it lies beyond double precision from every state's emission); choose starting values closer to the data.");
                }
            }
        }
    }

    private static void Normalize(Span<double> p)
    {
        var s = 0.0;
        foreach (var v in p)
        {
            s += v;
        }

        for (var i = 0; i < p.Length; i++)
        {
            p[i] /= s;
        }
    }

    /// <summary>Which parameters an EM run updates.</summary>
    private sealed class Selection
    {
        public bool Initial { get; private init; }

        public bool Transition { get; private init; }

        public HashSet<string> Emission { get; } = new(StringComparer.Ordinal);

        public static Selection Parse(HmmEmission emission, IReadOnlyCollection<string> parameters)
        {
            ArgumentNullException.ThrowIfNull(parameters);
            if (parameters.Count == 0)
            {
                throw new ModelValidationException("fit", "name at least one parameter to fit (initialProbabilities, transition, emission or emission.<field>).");
            }

            var initial = false;
            var transition = false;
            var fields = new List<string>();
            foreach (var p in parameters)
            {
                switch (p)
                {
                    case "initialProbabilities":
                        initial = true;
                        break;
                    case "transition":
                        transition = true;
                        break;
                    case "emission":
                        fields.AddRange(emission.ParameterNames);
                        break;
                    default:
                        var name = p.StartsWith("emission.", StringComparison.Ordinal) ? p["emission.".Length..] : null;
                        if (name is null || !emission.ParameterNames.Contains(name))
                        {
                            throw new ModelValidationException(p, $"is not a parameter of this {emission.Type} hidden Markov model (known: initialProbabilities, transition, emission, {string.Join(", ", emission.ParameterNames.Select(n => "emission." + n))}).");
                        }

                        fields.Add(name);
                        break;
                }
            }

            var selection = new Selection { Initial = initial, Transition = transition };
            selection.Emission.UnionWith(fields);
            return selection;
        }
    }
}
