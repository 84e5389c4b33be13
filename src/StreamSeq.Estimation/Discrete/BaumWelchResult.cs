namespace StreamSeq.Estimation.Discrete;

/// <summary>The outcome of a Baum–Welch fit.</summary>
/// <param name="Model">The fitted model.</param>
/// <param name="LogLikelihood">log p(y | fitted model), summed over the sequences.</param>
/// <param name="Iterations">EM iterations run.</param>
/// <param name="Converged">True when the log-likelihood gain fell below the tolerance before the iteration limit.</param>
public sealed record BaumWelchResult(HiddenMarkovModel Model, double LogLikelihood, int Iterations, bool Converged);
