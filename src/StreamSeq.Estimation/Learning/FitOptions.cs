namespace StreamSeq.Estimation.Learning;

/// <summary>Settings shared by the fitting methods.</summary>
public sealed class FitOptions
{
    /// <summary>Iteration limit (optimiser iterations or EM sweeps).</summary>
    public int MaxIterations { get; init; } = 500;

    /// <summary>Stop when the log-likelihood improves by less than this (absolute) between iterations.</summary>
    public double Tolerance { get; init; } = 1e-8;

    /// <summary>Seed for methods that draw random numbers (particle likelihoods, initialisations, mini-batches).</summary>
    public ulong Seed { get; init; }

    /// <summary>Receives progress after each iteration.</summary>
    public IProgress<FitProgress>? Progress { get; init; }
}
