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

    /// <summary>
    /// The largest N at which <see cref="ParticleSmoothing.Auto"/> smooths a whole series by marginal FFBSm weights.
    /// Its backward step makes N² transition-density evaluations: measured about 3 ms a step at N = 1,000 on the growth
    /// model (ParticleSmoothingBenchmarks; 4.1 s for 1,000 readings), 4.6 ms on the pendulum, 13 ms for the
    /// four-state linear model, and 25 times that at 5,000 (0.08–0.3 s a step). Above the limit Auto traces ancestors; <see cref="ParticleSmoothing.Marginal"/> lifts it.
    /// </summary>
    public const int MarginalSmoothingParticleLimit = 5000;

    /// <summary>
    /// The largest N that <see cref="ParticleSmoothing.Marginal"/> accepts: 16 times the N² work of
    /// <see cref="MarginalSmoothingParticleLimit"/>, about 1–5 s a step by the measurements above. Beyond it a
    /// whole-series pass would run for days (at the 10,000,000-particle limit, 10¹⁴ densities a step), so the spec is
    /// refused at load instead.
    /// </summary>
    public const int MarginalSmoothingParticleMaximum = 20_000;

    /// <summary>How fixed-interval smoothing works (spec field <c>intervalSmoothing</c>: <c>auto</c>, <c>marginal</c> or
    /// <c>ancestors</c>). Default <see cref="ParticleSmoothing.Auto"/>.</summary>
    public ParticleSmoothing IntervalSmoothing { get; init; } = ParticleSmoothing.Auto;

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

        if (!Enum.IsDefined(IntervalSmoothing))
        {
            throw new ModelValidationException("intervalSmoothing", $"must be auto, marginal or ancestors, got {(int)IntervalSmoothing}.");
        }

        if (IntervalSmoothing == ParticleSmoothing.Marginal && ParticleCount > MarginalSmoothingParticleMaximum)
        {
            throw new ModelValidationException(
                "intervalSmoothing",
                $"marginal smoothing takes N² transition densities a step, so it allows at most 20,000 particles, got {ParticleCount}; use auto or ancestors (ancestor tracing) with this many.");
        }

        if (!(EssThreshold > 0.0 && EssThreshold <= 1.0))
        {
            throw new ModelValidationException("essThreshold", $"must be in (0, 1] (1 resamples at every step), got {EssThreshold}.");
        }
    }
}
