namespace StreamSeq.Estimation.Particles;

/// <summary>
/// An importance proposal q(h_t | h_{t-1}, y_t) for the guided particle filter, with the densities the importance
/// weight needs.
/// </summary>
/// <remarks>The guided filter weights a particle by g(y_t | h_t) f(h_t | h_{t-1}) / q(h_t | h_{t-1}, y_t), so a
/// proposal supplies both log f and log q. Particles are laid out as in <see cref="IStateSpaceModel"/>.</remarks>
public interface IParticleProposal
{
    /// <summary>Draws h_t ~ q(· | h_{t-1}, y_t) for each particle into <paramref name="next"/>.</summary>
    void Sample(ReadOnlySpan<double> previous, Span<double> next, int count, ReadOnlySpan<double> observation, double timeGap, long step, ref ParticleRandom random);

    /// <summary>Writes log q(h_t | h_{t-1}, y_t) for each particle.</summary>
    void LogDensity(ReadOnlySpan<double> previous, ReadOnlySpan<double> next, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logDensity);

    /// <summary>Writes the transition log-density log f(h_t | h_{t-1}) for each particle.</summary>
    void TransitionLogDensity(ReadOnlySpan<double> previous, ReadOnlySpan<double> next, int count, double timeGap, long step, Span<double> logDensity);
}
