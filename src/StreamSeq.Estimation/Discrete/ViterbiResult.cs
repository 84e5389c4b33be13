namespace StreamSeq.Estimation.Discrete;

/// <summary>The most probable state path of a hidden Markov model on one sequence.</summary>
/// <param name="Path">s*_{1:T}, 0-based states.</param>
/// <param name="LogJoint">log p(y_{1:T}, s*_{1:T}).</param>
/// <param name="LogDelta">δ_t(k) = max over s_{1:t−1} of log p(y_{1:t}, s_{1:t−1}, s_t = k) (T×K, row-major).</param>
public sealed record ViterbiResult(int[] Path, double LogJoint, double[] LogDelta);
