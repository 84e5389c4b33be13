namespace StreamSeq.Processing.Anomaly;

/// <summary>What an anomaly rule compares with its threshold.</summary>
public enum AnomalyRuleType
{
    /// <summary>Normalised innovation squared above a chi-square quantile: <c>threshold</c> is the tail probability α,
    /// the rule fires when P(χ²_k ≥ NIS) &lt; α with k the number of observed components.</summary>
    ChiSquare,

    /// <summary>Normalised innovation squared above a fixed value.</summary>
    Nis,

    /// <summary>log p(y_t | y_{1:t-1}) below a fixed value.</summary>
    LogLikelihood,

    /// <summary>A family extra (for example <c>changepointProbability</c> or <c>anomalyScore</c>) at or above a value.</summary>
    Extra,
}
