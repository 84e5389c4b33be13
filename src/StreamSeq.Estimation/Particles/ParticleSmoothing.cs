namespace StreamSeq.Estimation.Particles;

/// <summary>How a <see cref="ParticleFilter"/> smooths a whole series (fixed-interval smoothing; spec field
/// <c>intervalSmoothing</c>). Fixed-lag smoothing always traces ancestors.</summary>
public enum ParticleSmoothing
{
    /// <summary>Marginal (FFBSm) when the model has a transition density (<see cref="ITransitionDensity"/>) and
    /// N ≤ <see cref="ParticleFilterOptions.MarginalSmoothingParticleLimit"/>; ancestor tracing otherwise.</summary>
    Auto,

    /// <summary>Marginal forward-filtering backward-smoothing whenever the model has a transition density (O(N²) per
    /// step), for N up to <see cref="ParticleFilterOptions.MarginalSmoothingParticleMaximum"/>.</summary>
    Marginal,

    /// <summary>Ancestor tracing (genealogy), O(N) per step; far enough back the traced paths collapse.</summary>
    Ancestors,
}
