namespace StreamSeq.Estimation.Discrete;

/// <summary>The forward–backward results of a hidden Markov model on one sequence (all arrays T×K, row-major).</summary>
/// <remarks>
/// Symbols: <see cref="Predicted"/> = P(s_t | y_{1:t−1}), <see cref="Filtered"/> = P(s_t | y_{1:t}),
/// <see cref="Smoothed"/> = P(s_t | y_{1:T}), <see cref="LogAlpha"/> = log p(y_{1:t}, s_t),
/// <see cref="LogBeta"/> = log p(y_{t+1:T} | s_t) (0 at t = T), <see cref="LogPredictiveDensity"/> =
/// log p(y_t | y_{1:t−1}) (NaN where y_t is missing, −∞ where it is impossible in every state the chain can be in) and
/// <see cref="ExpectedTransitionCounts"/> = Σ_t P(s_{t−1} = i, s_t = j | y_{1:T}) (K×K).
/// <para>An impossible reading (one outside the emission's support among them) is scored as the streaming filter
/// scores it, −∞, and then skipped like a missing one: the state probabilities, <see cref="LogAlpha"/> and
/// <see cref="LogBeta"/> carry the chain through it with no emission term. <see cref="LogLikelihood"/> is the sum of
/// the per-step densities that are not NaN, so it is −∞ when any reading is impossible (as the Kalman family's batch
/// total and the sum of a stream's <c>logLik</c> are).</para>
/// </remarks>
public sealed class HmmPosterior
{
    internal HmmPosterior(int length, int states)
    {
        Length = length;
        StateCount = states;
        Predicted = new double[length * states];
        Filtered = new double[length * states];
        Smoothed = new double[length * states];
        LogAlpha = new double[length * states];
        LogBeta = new double[length * states];
        LogPredictiveDensity = new double[length];
        ExpectedTransitionCounts = new double[states * states];
    }

    /// <summary>Sequence length T.</summary>
    public int Length { get; }

    /// <summary>Number of states K.</summary>
    public int StateCount { get; }

    /// <summary>P(s_t | y_{1:t−1}).</summary>
    public double[] Predicted { get; }

    /// <summary>P(s_t | y_{1:t}).</summary>
    public double[] Filtered { get; }

    /// <summary>P(s_t | y_{1:T}).</summary>
    public double[] Smoothed { get; }

    /// <summary>log p(y_{1:t}, s_t = k).</summary>
    public double[] LogAlpha { get; }

    /// <summary>log p(y_{t+1:T} | s_t = k).</summary>
    public double[] LogBeta { get; }

    /// <summary>log p(y_t | y_{1:t−1}); NaN for a missing reading, −∞ for one impossible in every live state.</summary>
    public double[] LogPredictiveDensity { get; }

    /// <summary>log p(y_{1:T}): Σ_t <see cref="LogPredictiveDensity"/> over the readings that are not missing; −∞ when one is impossible.</summary>
    public double LogLikelihood { get; internal set; }

    /// <summary>
    /// Σ_t log p(y_t | y_{1:t−1}) over the scored readings only, impossible ones left out as missing ones are (equal to
    /// <see cref="LogLikelihood"/> when no reading is impossible); what Baum–Welch maximises.
    /// </summary>
    internal double ScoredLogLikelihood { get; set; }

    /// <summary>Σ_{t≥2} P(s_{t−1} = i, s_t = j | y_{1:T}) (K×K, row-major).</summary>
    public double[] ExpectedTransitionCounts { get; }
}
