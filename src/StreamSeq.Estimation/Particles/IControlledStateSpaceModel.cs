namespace StreamSeq.Estimation.Particles;

/// <summary>
/// A state-space model whose prior and transition read each observation's control input u_t, as
/// h_1 ~ p_0(· | u_1) and h_t ~ f(· | h_{t-1}, u_t). <see cref="ParticleFilter"/> passes the control of the reading it
/// assimilates (empty when the reading carries none, NaN components where it is missing) and reports
/// <see cref="ControlDimension"/> in its <see cref="Abstractions.EstimatorInfo"/>, so records with controls reach it.
/// The control-free methods of <see cref="IStateSpaceModel"/> are the same model with every control missing; a
/// forecast, whose future controls are not known, uses them.
/// </summary>
internal interface IControlledStateSpaceModel : IStateSpaceModel
{
    /// <summary>Length of u (positive).</summary>
    int ControlDimension { get; }

    /// <summary>Draws <paramref name="count"/> samples of h_1 from the prior given the control of the reading assimilated
    /// as a first reading: a stream's first, or a re-initialised step's.</summary>
    void SampleInitial(Span<double> particles, int count, ReadOnlySpan<double> control, ref ParticleRandom random);

    /// <summary>Replaces each particle h_{t-1} by a draw of h_t ~ f(· | h_{t-1}, u_t) in place.</summary>
    void SampleTransition(Span<double> particles, int count, double timeGap, long step, ReadOnlySpan<double> control, ref ParticleRandom random);

    /// <summary>The look-ahead log-densities of <see cref="IStateSpaceModel.LookAheadLogLikelihood"/> given u_t.</summary>
    void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, ReadOnlySpan<double> control, Span<double> logLikelihood);
}
