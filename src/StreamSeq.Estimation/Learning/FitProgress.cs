namespace StreamSeq.Estimation.Learning;

/// <summary>Progress of a fit, reported after each iteration (drives progress bars).</summary>
/// <param name="Iteration">Iterations completed.</param>
/// <param name="MaxIterations">Iteration limit.</param>
/// <param name="LogLikelihood">Current log-likelihood (or negative loss).</param>
/// <param name="Message">Optional extra text, for example a validation loss.</param>
public readonly record struct FitProgress(int Iteration, int MaxIterations, double LogLikelihood, string? Message = null);
