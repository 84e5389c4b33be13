namespace StreamSeq.Estimation.Abstractions;

/// <summary>A family-specific output of a step, such as HMM state probabilities or a particle filter's ESS.</summary>
/// <param name="Name">The JSON field name in output records (camelCase).</param>
/// <param name="Length">Number of doubles; 1 is written as a number, more as an array.</param>
/// <param name="IsInteger">True when the values are whole numbers (written without a fraction).</param>
public sealed record ExtraField(string Name, int Length = 1, bool IsInteger = false);
