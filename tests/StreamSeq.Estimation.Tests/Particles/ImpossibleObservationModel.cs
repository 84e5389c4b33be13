using StreamSeq.Estimation.Particles;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>
/// A random walk whose emission density is zero (log −∞) for y above 100 and NaN for y below −100, to drive the
/// particle filter into degeneracy on purpose.
/// </summary>
internal sealed class ImpossibleObservationModel : IStateSpaceModel
{
    public int StateDimension => 1;

    public int ObservationDimension => 1;

    public bool UsesTimeGap => false;

    public IParticleProposal? Proposal => null;

    public void SampleInitial(Span<double> particles, int count, ref ParticleRandom random)
    {
        for (var i = 0; i < count; i++)
        {
            particles[i] = random.NextGaussian();
        }
    }

    public void SampleTransition(Span<double> particles, int count, double timeGap, long step, ref ParticleRandom random)
    {
        for (var i = 0; i < count; i++)
        {
            particles[i] += random.NextGaussian();
        }
    }

    public void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logLikelihood) =>
        LogLikelihood(previous, count, observation, logLikelihood);

    public void LogLikelihood(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> observation, Span<double> logLikelihood)
    {
        var y = observation[0];
        for (var i = 0; i < count; i++)
        {
            var r = y - particles[i];
            logLikelihood[i] = y > 100 ? double.NegativeInfinity : y < -100 ? double.NaN : -0.5 * r * r;
        }
    }

    public void EmissionMean(ReadOnlySpan<double> particles, int count, Span<double> mean) => particles[..count].CopyTo(mean);

    public void AddEmissionCovariance(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> weights, Span<double> covariance) =>
        covariance[0] += 1.0;
}
