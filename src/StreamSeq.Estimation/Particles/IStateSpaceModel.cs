namespace StreamSeq.Estimation.Particles;

/// <summary>
/// A (generally nonlinear, non-Gaussian) state-space model as a particle filter needs it: sample the prior, sample
/// the transition, evaluate the emission density.
/// </summary>
/// <remarks>
/// <para>Model: h_1 ~ p_0, h_t ~ f(· | h_{t-1}; Δt, t) and y_t ~ g(· | h_t). The prior p_0 is the distribution of the
/// state at the first observation (a model whose literature places the prior one step earlier samples that step
/// and propagates it once in <see cref="SampleInitial"/>).</para>
/// <para>Particles are laid out as a structure of arrays: particle spans hold one contiguous
/// block of <c>count</c> values per state dimension, component d of particle i at index <c>d * count + i</c>. Every
/// method works on a whole population at once so the per-particle loops stay tight and free of interface calls.
/// Implementations must be immutable, thread-safe and allocation-free in these methods.</para>
/// <para>Step indices are 1-based: the transition into the state of the t-th observation receives t.</para>
/// </remarks>
public interface IStateSpaceModel
{
    /// <summary>State dimension n.</summary>
    int StateDimension { get; }

    /// <summary>Observation dimension m.</summary>
    int ObservationDimension { get; }

    /// <summary>True when <see cref="SampleTransition"/> depends on the time gap (continuous-time models).</summary>
    bool UsesTimeGap { get; }

    /// <summary>Draws <paramref name="count"/> independent samples of h_1 from the prior.</summary>
    void SampleInitial(Span<double> particles, int count, ref ParticleRandom random);

    /// <summary>
    /// Draws <paramref name="count"/> independent samples of the prior at step <paramref name="step"/>, for a stream that
    /// re-initialises there and takes that step's reading as its first: a model whose prior lies one step before the
    /// first reading propagates it with step <paramref name="step"/>'s transition, as <see cref="SampleInitial"/> does
    /// with step 1's. The default is <see cref="SampleInitial"/>, right for a model whose transition does not depend on
    /// the step.
    /// </summary>
    void SampleInitialAt(Span<double> particles, int count, long step, ref ParticleRandom random) =>
        SampleInitial(particles, count, ref random);

    /// <summary>Replaces each particle h_{t-1} by a draw of h_t ~ f(· | h_{t-1}) in place.</summary>
    /// <param name="particles">The population, structure of arrays.</param>
    /// <param name="count">Number of particles.</param>
    /// <param name="timeGap">Model time since the previous observation.</param>
    /// <param name="step">1-based index t of the new state.</param>
    /// <param name="random">The stream's generator.</param>
    void SampleTransition(Span<double> particles, int count, double timeGap, long step, ref ParticleRandom random);

    /// <summary>
    /// Writes the log of an approximation of the predictive density p(y_t | h^i_{t−1}) for each particle over the
    /// observed components: the first-stage (look-ahead) weights of the auxiliary particle filter.
    /// </summary>
    /// <remarks>Any positive function gives a consistent filter; a good one is close to the exact predictive and
    /// no narrower, so the second-stage weights g(y_t | h_t) / p̂(y_t | h_{t−1}) stay bounded. The built-in models use
    /// a Gaussian with the moments of y_t given h_{t−1} (exact for the linear model).</remarks>
    void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logLikelihood);

    /// <summary>Writes log g(y_o | h_i) for each particle over the observed (finite) components o of
    /// <paramref name="observation"/>; at least one component is observed.</summary>
    void LogLikelihood(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> observation, Span<double> logLikelihood);

    /// <summary>Writes E[y | h_i] for each particle, structure of arrays (m blocks of <paramref name="count"/>).</summary>
    void EmissionMean(ReadOnlySpan<double> particles, int count, Span<double> mean);

    /// <summary>Adds Σ_i weights_i Cov[y | h_i] to <paramref name="covariance"/> (m×m, row-major).</summary>
    void AddEmissionCovariance(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> weights, Span<double> covariance);

    /// <summary>An importance proposal for the guided filter, or null when the model has none.</summary>
    IParticleProposal? Proposal { get; }
}
