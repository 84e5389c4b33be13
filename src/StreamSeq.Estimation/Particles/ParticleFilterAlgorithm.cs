namespace StreamSeq.Estimation.Particles;

/// <summary>The particle filter variant (spec field <c>filter</c>).</summary>
public enum ParticleFilterAlgorithm
{
    /// <summary>Propagate with the transition, weight by the likelihood (<c>bootstrap</c>).</summary>
    Bootstrap,

    /// <summary>Pitt–Shephard auxiliary filter: resample by look-ahead weights p̂(y_t | h_{t−1}) first
    /// (<c>auxiliary</c>).</summary>
    Auxiliary,

    /// <summary>Propagate with the model's <see cref="IParticleProposal"/> (<c>guided</c>).</summary>
    Guided,
}
