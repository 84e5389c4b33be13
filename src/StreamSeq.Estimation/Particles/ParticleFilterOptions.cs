using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Particles;

/// <summary>Settings of a <see cref="ParticleFilter"/>; validation errors name the spec field.</summary>
public sealed class ParticleFilterOptions
{
    /// <summary>Number of particles N (spec field <c>particles</c>). Default 1000.</summary>
    public int ParticleCount { get; init; } = 1000;

    /// <summary>Resampling scheme (spec field <c>resampling</c>). Default systematic.</summary>
    public ResamplingScheme Resampling { get; init; } = ResamplingScheme.Systematic;

    /// <summary>
    /// Resample when ESS/N falls below this value, in (0, 1] (spec field <c>essThreshold</c>); 1 resamples at every
    /// step. Default 0.5.
    /// </summary>
    public double EssThreshold { get; init; } = 0.5;

    /// <summary>The filter variant (spec field <c>filter</c>). Default bootstrap.</summary>
    public ParticleFilterAlgorithm Algorithm { get; init; } = ParticleFilterAlgorithm.Bootstrap;

    /// <summary>
    /// Sort one-dimensional particles by value before resampling (spec field <c>sortedResampling</c>, default false):
    /// a small change of the model parameters then moves ancestors to neighbouring states, so the simulated
    /// likelihood is nearly continuous in the parameters, which helps maximum-likelihood fitting. Costs an
    /// O(N log N) sort per resampling; ignored for multi-dimensional states.
    /// </summary>
    public bool SortedResampling { get; init; }

    /// <summary>Throws <see cref="ModelValidationException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (ParticleCount < 2)
        {
            throw new ModelValidationException("particles", $"must be at least 2, got {ParticleCount}.");
        }

        if (ParticleCount > 10_000_000)
        {
            throw new ModelValidationException("particles", $"must be at most 10,000,000 (the state of every stream holds them), got {ParticleCount}.");
        }

        if (!(EssThreshold > 0.0 && EssThreshold <= 1.0))
        {
            throw new ModelValidationException("essThreshold", $"must be in (0, 1] (1 resamples at every step), got {EssThreshold}.");
        }
    }
}
