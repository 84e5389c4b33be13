using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>
/// Each bundled model's <see cref="ITransitionDensity"/> against its own sampler: 200,000 draws of
/// <see cref="IStateSpaceModel.SampleTransition"/> from one state, whose mean and covariance must match the moments of
/// the density integrated numerically on a grid (which must also integrate to 1), within 5 Monte-Carlo standard
/// errors; and the all-pairs layout against one-by-one evaluation.
/// </summary>
public sealed class TransitionDensityTests
{
    private const int Draws = 200_000;

    public static TheoryData<string> Models => ["growth", "stochastic-volatility", "pendulum", "linear"];

    private static (IStateSpaceModel Model, double[] State, long Step) Build(string name) => name switch
    {
        "growth" => (new NonstationaryGrowthModel(), [3.0], 7),
        "stochastic-volatility" => (new StochasticVolatilityModel(0.95, 0.3, 1.0), [0.8], 5),
        "pendulum" => (new PendulumModel(timeStep: 0.1, accelerationNoise: 0.5), [1.0, 0.5], 3),
        "linear" => (new LinearGaussianParticleModel(new LinearGaussianModel(new MatrixDynamics(2, [1, 1, 0, 1], [1.0 / 3, 0.5, 0.5, 1.0]), 1, [1, 0], [1.0], [0.0, 0.0], [1.0, 0.0, 0.0, 1.0])), [2.0, -1.0], 4),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void TransitionLogDensity_BundledModel_MomentsMatchSampledTransitions(string name)
    {
        var (model, state, step) = Build(name);
        var density = Assert.IsAssignableFrom<ITransitionDensity>(model);
        Assert.True(density.HasTransitionDensity(1.0, step));
        var n = model.StateDimension;

        // Sampled moments.
        var particles = new double[n * Draws];
        for (var d = 0; d < n; d++)
        {
            Array.Fill(particles, state[d], d * Draws, Draws);
        }

        var random = ParticleRandom.FromSeed(11);
        model.SampleTransition(particles, Draws, 1.0, step, ref random);
        var (sampleMean, sampleCov) = Moments(particles, Draws, n, null);

        // Grid moments of exp(log f) around the sampled mean (±9 sd per component).
        var points = n == 1 ? 4001 : 401;
        var total = (int)Math.Pow(points, n);
        var grid = new double[n * total];
        var cell = 1.0;
        var spacing = new double[n];
        for (var d = 0; d < n; d++)
        {
            var sd = Math.Sqrt(sampleCov[(d * n) + d]);
            spacing[d] = 18.0 * sd / (points - 1);
            cell *= spacing[d];
        }

        for (var k = 0; k < total; k++)
        {
            var rest = k;
            for (var d = 0; d < n; d++)
            {
                grid[(d * total) + k] = sampleMean[d] - (9.0 * Math.Sqrt(sampleCov[(d * n) + d])) + ((rest % points) * spacing[d]);
                rest /= points;
            }
        }

        var logDensity = new double[total];
        density.TransitionLogDensity(state, 1, grid, total, 1.0, step, logDensity);
        var mass = logDensity.Select(Math.Exp).ToArray();
        var integral = mass.Sum() * cell;
        Assert.Equal(1.0, integral, 1e-4);
        var (gridMean, gridCov) = Moments(grid, total, n, mass);
        for (var a = 0; a < n; a++)
        {
            var se = Math.Sqrt(sampleCov[(a * n) + a] / Draws);
            Assert.True(Math.Abs(gridMean[a] - sampleMean[a]) <= 5 * se, $"{name}: mean {a}: density {gridMean[a]} vs samples {sampleMean[a]} (se {se:G3})");
            for (var b = 0; b < n; b++)
            {
                var covSe = Math.Sqrt(((sampleCov[(a * n) + a] * sampleCov[(b * n) + b]) + (sampleCov[(a * n) + b] * sampleCov[(a * n) + b])) / Draws);
                Assert.True(Math.Abs(gridCov[(a * n) + b] - sampleCov[(a * n) + b]) <= 5 * covSe, $"{name}: cov {a}{b}: density {gridCov[(a * n) + b]} vs samples {sampleCov[(a * n) + b]} (se {covSe:G3})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TransitionLogDensity_AllPairs_EqualsOneNextParticleAtATime(string name)
    {
        var (model, state, step) = Build(name);
        var density = (ITransitionDensity)model;
        var n = model.StateDimension;
        const int previousCount = 5;
        const int nextCount = 3;
        var previous = new double[n * previousCount];
        var next = new double[n * nextCount];
        for (var d = 0; d < n; d++)
        {
            for (var i = 0; i < previousCount; i++)
            {
                previous[(d * previousCount) + i] = state[d] + (0.1 * (i - 2));
            }
        }

        for (var d = 0; d < n; d++)
        {
            for (var j = 0; j < nextCount; j++)
            {
                next[(d * nextCount) + j] = state[d] + (0.05 * (j + 1) * (d + 1));
            }
        }

        var all = new double[nextCount * previousCount];
        density.TransitionLogDensity(previous, previousCount, next, nextCount, 1.0, step, all);
        var one = new double[previousCount];
        var single = new double[n];
        for (var j = 0; j < nextCount; j++)
        {
            for (var d = 0; d < n; d++)
            {
                single[d] = next[(d * nextCount) + j];
            }

            density.TransitionLogDensity(previous, previousCount, single, 1, 1.0, step, one);
            for (var i = 0; i < previousCount; i++)
            {
                Assert.Equal(one[i], all[(j * previousCount) + i], 12);
                Assert.True(double.IsFinite(one[i]));
            }
        }
    }

    [Fact]
    public void HasTransitionDensity_LinearModelWithSingularNoise_IsFalse()
    {
        // Constant velocity with noise on the velocity only: the position moves deterministically given the past.
        var model = new LinearGaussianParticleModel(new LinearGaussianModel(new MatrixDynamics(2, [1, 1, 0, 1], [0.0, 0.0, 0.0, 1.0]), 1, [1, 0], [1.0], [0.0, 0.0], [1.0, 0.0, 0.0, 1.0]));
        Assert.False(model.HasTransitionDensity(1.0, 2));
    }

    private static (double[] Mean, double[] Cov) Moments(double[] values, int count, int n, double[]? weights)
    {
        var mean = new double[n];
        var cov = new double[n * n];
        var total = weights?.Sum() ?? count;
        for (var d = 0; d < n; d++)
        {
            var s = 0.0;
            for (var i = 0; i < count; i++)
            {
                s += (weights?[i] ?? 1.0) * values[(d * count) + i];
            }

            mean[d] = s / total;
        }

        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++)
            {
                var s = 0.0;
                for (var i = 0; i < count; i++)
                {
                    s += (weights?[i] ?? 1.0) * (values[(a * count) + i] - mean[a]) * (values[(b * count) + i] - mean[b]);
                }

                cov[(a * n) + b] = s / total;
            }
        }

        return (mean, cov);
    }
}
