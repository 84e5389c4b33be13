using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>
/// A random walk with large steps (Q = 10) read through small noise R: readings that pin the state far more tightly
/// than the transition spreads it, where blind proposals waste particles and the exact answer is the Kalman filter's.
/// </summary>
internal static class SteepRandomWalk
{
    /// <summary>The model (prior N(0, 10)) and <paramref name="length"/> readings simulated from it with this seed.</summary>
    public static (LinearGaussianModel Model, ObservationSeries Data) Create(double observationNoise, ulong seed, int length)
    {
        var model = new LinearGaussianModel(new MatrixDynamics(1, [1.0], [10.0]), 1, [1.0], [observationNoise], [0.0], [10.0]);
        var random = ParticleRandom.FromSeed(seed);
        var values = new double[length];
        var x = 0.0;
        for (var t = 0; t < values.Length; t++)
        {
            x += Math.Sqrt(10) * random.NextGaussian();
            values[t] = x + (Math.Sqrt(observationNoise) * random.NextGaussian());
        }

        return (model, new ObservationSeries(1, values));
    }
}
