using System.Globalization;
using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// Properties of the Kalman filter over random continuous-time presets and sums of them (the models users write):
/// the exact diffuse start ends within 3n readings that carry a value, and every covariance reported at any step is
/// finite (after that), symmetric and positive semi-definite, with regular or irregular gaps from 0.01 to 100 time
/// units, seasonal periods from 2 to 10,000 steps with 1 to 6 harmonics, and missing readings; extreme readings
/// (±1e308, 1e-308) and huge gaps leave the stream able to go on.
/// </summary>
public sealed class KalmanFilterPresetPropertyTests
{
    [Fact]
    public void Step_AnyPresetSum_DiffusePeriodEndsAndCovariancesStayPositiveSemiDefinite()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            var (model, description, gap, _) = RandomModel(rng);
            var missing = rng.NextDouble() < 0.5 ? 0.0 : 0.4 * rng.NextDouble();
            var n = model.StateDimension;
            var gaps = Gaps(rng, gap, (6 * n) + 20);
            var data = GaussianSimulation.Simulate(Truth(model, rng), gaps.Length, rng, missing, gaps);
            Run(model, data, $"seed {seed}: {description}, missing {missing:F2}", extremes: null, hugeGapAt: -1, identifiable: true);
        }, iter: 300);
    }

    [Fact]
    public void Step_ExtremeReadingsAndHugeGaps_AreSkippedOrAbsorbedAndTheStreamGoesOn() =>
        Gen.Int[0, int.MaxValue].Sample(ExtremeReadingsAndHugeGap, iter: 200);

    /// <summary>Cases the random search once found: a constant-acceleration stream whose update after a gap of
    /// 3,410 steps cancelled a predicted variance of about 1e17 down to 2.7e3, leaving an eigenvalue of −1.6e-4 that
    /// the post-update check did not test for (the updated variances were no longer large); a level plus an
    /// acceleration (the difference of their levels undetermined) whose overflowing reading came while the innovation
    /// covariance could not be factored, so it was skipped unscored rather than scored −∞; an acceleration plus a
    /// seasonal whose update after a gap of 20,000 steps left an eigenvalue of −1.1e-5, allowed beside variances of
    /// 9e5 but not beside the 8e3 of the next reading (the test after a fragile prediction is now near rounding); a
    /// seasonal of 3,900 steps beside an acceleration over 96 readings, two trends over them, and two seasonals of 4
    /// and 42 steps with six and four harmonics, the fourth of the first aliasing onto a trend: models the data do not
    /// determine, so readings after a huge gap may be skipped.</summary>
    [Theory]
    [InlineData(246218284)]
    [InlineData(128875643)]
    [InlineData(1156459534)]
    [InlineData(1917479662)]
    [InlineData(1461848924)]
    public void Step_ExtremeReadingsAndHugeGaps_CasesFoundBefore(int seed) => ExtremeReadingsAndHugeGap(seed);

    private static void ExtremeReadingsAndHugeGap(int seed)
    {
        var rng = new Random(seed);
        var (model, description, gap, identifiable) = RandomModel(rng);
        var n = model.StateDimension;
        var gaps = Gaps(rng, gap, (6 * n) + 30);
        var data = GaussianSimulation.Simulate(Truth(model, rng), gaps.Length, rng, 0.1, gaps);
        var m = model.ObservationDimension;
        var extremes = new HashSet<int>();
        for (var e = 0; e < 4; e++)
        {
            var t = rng.Next(data.Length);
            var value = rng.Next(3) switch { 0 => 1e308, 1 => -1e308, _ => double.MaxValue };
            data.Values[(t * m) + rng.Next(m)] = value;
            extremes.Add(t);
        }

        // Tiny readings are ordinary numbers; a huge gap only widens the prediction.
        var tiny = rng.Next(data.Length);
        if (!extremes.Contains(tiny))
        {
            data.Values[(tiny * m) + rng.Next(m)] = 1e-308;
        }

        // A huge gap: the readings just after it may need repairs (the prediction spans many orders of magnitude),
        // but within 3n readings the stream is back to ordinary updates. A sum whose components share a level
        // (two trends, two seasonals with a common frequency) never determines their difference, which random-walks
        // without bound; after a huge gap its variance dwarfs the rest by more than double precision resolves, so
        // there only the covariance properties are required (readings may keep being skipped, flagged).
        var hugeGapAt = 1 + rng.Next(gaps.Length - (4 * n) - 1);
        gaps[hugeGapAt] = gap * Math.Pow(10, 3 + (3 * rng.NextDouble()));
        Run(model, data, $"seed {seed}: {description} with extremes at {string.Join(",", extremes.Order())}, gap {gaps[hugeGapAt]:G3} at {hugeGapAt}", extremes, hugeGapAt, identifiable);
    }

    [Fact]
    public void Step_GapWhosePredictionOverflows_RestartsFromThePriorAndResolvesAgain()
    {
        // A gap of 1e300 time units makes Q infinite: nothing is known any more, so the stream restarts (flagged).
        var model = Build([new LocalLinearTrend(1e-2, 1e-4)], 1, [0.1]);
        var gaps = Enumerable.Repeat(1.0, 12).ToArray();
        gaps[6] = 1e300;
        var values = Enumerable.Range(0, 12).Select(t => 20.0 + (0.1 * t)).ToArray();
        var filter = new KalmanFilter(model);
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        filter.Initialize(state, 0);
        var data = new ObservationSeries(1, values, gaps);
        for (var t = 0; t < data.Length; t++)
        {
            filter.Step(state, data.At(t), estimate, default);
            if (t == 6)
            {
                Assert.True((estimate.Flags & EstimateFlags.Reinitialized) != 0, "the overflowing gap restarts the stream");
            }

            Assert.Null(CovarianceProperties.Violation(estimate.StateCovariance, 2, allowInfinite: true));
        }

        Assert.False(KalmanFilter.IsStillDiffuse(state), "the restarted stream resolves its diffuse start again");
        Assert.True(double.IsFinite(estimate.LogLikelihood));
    }

    private static void Run(LinearGaussianModel model, ObservationSeries data, string context, HashSet<int>? extremes, int hugeGapAt, bool identifiable)
    {
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        var filter = new KalmanFilter(model);
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        filter.Initialize(state, 0);
        var readings = 0;
        var resolvedAt = -1;
        var readingsAfterGap = 0;
        for (var t = 0; t < data.Length; t++)
        {
            var observation = data.At(t);
            filter.Step(state, observation, estimate, default);
            var observed = false;
            foreach (var v in observation.Values)
            {
                observed |= double.IsFinite(v);
            }

            var extreme = extremes?.Contains(t) == true;
            if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
            {
                // A restart (allowed only just after the huge gap) begins a new diffuse period with this reading.
                readings = 0;
                resolvedAt = -1;
            }

            if (observed && !extreme)
            {
                readings++;
                readingsAfterGap += hugeGapAt >= 0 && t >= hugeGapAt ? 1 : 0;
            }

            var settling = hugeGapAt >= 0 && t >= hugeGapAt && readingsAfterGap <= 3 * n;

            var where = $"{context}, step {t} (reading {readings}, flags {estimate.Flags})";
            var diffuse = (estimate.Flags & EstimateFlags.Diffuse) != 0;
            Assert.True(settling || (estimate.Flags & EstimateFlags.Reinitialized) == 0, $"{where}: re-initialised");
            Check(estimate.PredictedCovariance, n, diffuse, $"{where} predicted");
            Check(estimate.ObservationCovariance, m, diffuse, $"{where} observation");
            Check(estimate.StateCovariance, n, diffuse, $"{where} state");
            Assert.True(Dense(estimate.StateMean), $"{where}: mean {string.Join(", ", estimate.StateMean)}");
            if (resolvedAt < 0 && !diffuse)
            {
                resolvedAt = readings;
            }

            if (readings >= 3 * n)
            {
                Assert.False(diffuse, $"{where}: still diffuse after {readings} readings (n = {n})");
            }

            if (extreme)
            {
                Assert.True((estimate.Flags & EstimateFlags.ObservationSkipped) != 0, $"{where}: an overflowing reading must be skipped");
                // Scored −∞, unless the innovation covariance itself could not be factored, which makes every reading of
                // that step unscorable (nothing observed, NaN); that happens only where ordinary readings may be skipped
                // too, a model that does not determine every state.
                var unscorable = !identifiable && estimate.ObservedCount == 0 && double.IsNaN(estimate.LogLikelihood);
                Assert.True(
                    unscorable || double.IsNegativeInfinity(estimate.LogLikelihood),
                    $"{where}: an overflowing reading's log-likelihood is {estimate.LogLikelihood}, not −∞ (observed {estimate.ObservedCount}, identifiable {identifiable})");
            }
            else if (observed && !diffuse && !settling)
            {
                Assert.True(double.IsFinite(estimate.LogLikelihood), $"{where}: log-likelihood {estimate.LogLikelihood}");
                Assert.True(!identifiable || (estimate.Flags & EstimateFlags.ObservationSkipped) == 0, $"{where}: an ordinary reading was skipped");
            }
        }

        Assert.True(resolvedAt >= 0 || readings < 3 * n, $"{context}: never resolved");
    }

    private static void Check(ReadOnlySpan<double> covariance, int dim, bool allowInfinite, string where)
    {
        var violation = CovarianceProperties.Violation(covariance, dim, allowInfinite);
        Assert.True(violation is null, $"{where}: {violation}");
    }

    private static bool Dense(ReadOnlySpan<double> x)
    {
        foreach (var v in x)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A random sum of presets, its description, its typical gap (0.01 to 100 time units) and whether the data
    /// can determine every state (its frequencies resolvable over the readings, as the body spells out).</summary>
    private static (LinearGaussianModel Model, string Description, double Gap, bool Identifiable) RandomModel(Random rng)
    {
        var gap = Math.Pow(10, -2 + (4 * rng.NextDouble()));
        var m = rng.NextDouble() < 0.7 ? 1 : rng.Next(2, 4);
        var components = new List<ContinuousComponent>();
        var count = rng.Next(1, 4);
        for (var i = 0; i < count; i++)
        {
            components.Add(m == 1 ? RandomScalarComponent(rng, gap) : RandomVectorComponent(rng, m));
        }

        var r = new double[m * m];
        if (m > 1 && rng.NextDouble() < 0.5)
        {
            var l = Enumerable.Range(0, m * m).Select(_ => GaussianSimulation.Normal(rng)).ToArray();
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < m; j++)
                {
                    var s = i == j ? 0.1 : 0.0;
                    for (var k = 0; k < m; k++)
                    {
                        s += l[(i * m) + k] * l[(j * m) + k];
                    }

                    r[(i * m) + j] = s;
                }
            }

            var scale = LogUniform(rng, 1e-4, 1);
            for (var i = 0; i < r.Length; i++)
            {
                r[i] *= scale;
            }
        }
        else
        {
            for (var i = 0; i < m; i++)
            {
                r[(i * m) + i] = LogUniform(rng, 1e-4, 10);
            }
        }

        var model = Build(components, m, r);
        var description = string.Create(CultureInfo.InvariantCulture, $"m={m} n={model.StateDimension} gap~{gap:G3} [{string.Join(" + ", components.Select(Describe))}]");
        // The data determine every state when the components' frequencies can be told apart over the readings: at
        // most one trend-like component (frequency 0), every harmonic below the Nyquist frequency of the typical gap
        // (one above it aliases onto a lower one, or onto a trend), and any two frequencies, 0 included, further apart
        // than one cycle over the readings (so a seasonal longer than the readings is one more trend).
        var span = ((6 * model.StateDimension) + 20) * gap;
        var trends = components.Count(c => c is not (TrigonometricSeasonal or OrnsteinUhlenbeck));
        var frequencies = components.OfType<TrigonometricSeasonal>().SelectMany(c => Enumerable.Range(1, c.Harmonics).Select(j => j / c.Period))
            .Concat(trends > 0 ? [0.0] : []).Order().ToList();
        var identifiable = trends <= 1
            && frequencies.All(f => f < 0.5 / gap)
            && frequencies.Zip(frequencies.Skip(1)).All(pair => pair.Second - pair.First > 1.0 / span);
        return (model, description, gap, identifiable);
    }

    private static ContinuousComponent RandomScalarComponent(Random rng, double gap) => rng.Next(6) switch
    {
        0 => new LocalLevel(LogUniform(rng, 1e-8, 1)),
        1 => new LocalLinearTrend(LogUniform(rng, 1e-8, 1), LogUniform(rng, 1e-10, 1e-2)),
        2 => new ConstantVelocity(LogUniform(rng, 1e-8, 1)),
        3 => new ConstantAcceleration(LogUniform(rng, 1e-10, 1e-2)),
        4 => new OrnsteinUhlenbeck(LogUniform(rng, 1e-3, 1) / gap, 10 * GaussianSimulation.Normal(rng), LogUniform(rng, 1e-3, 1)),
        _ => new TrigonometricSeasonal(gap * Math.Round(LogUniform(rng, 2, 10_000)), rng.Next(1, 7), LogUniform(rng, 1e-10, 1e-2)),
    };

    private static ContinuousComponent RandomVectorComponent(Random rng, int m) => rng.Next(3) switch
    {
        0 => new LocalLevel(LogUniform(rng, 1e-8, 1), m),
        1 => new ConstantVelocity(LogUniform(rng, 1e-8, 1), m),
        _ => new ConstantAcceleration(LogUniform(rng, 1e-10, 1e-2), m),
    };

    private static string Describe(ContinuousComponent c) => c switch
    {
        TrigonometricSeasonal s => string.Create(CultureInfo.InvariantCulture, $"seasonal(P={s.Period:G4}, h={s.Harmonics})"),
        _ => c.Name,
    };

    private static LinearGaussianModel Build(IReadOnlyList<ContinuousComponent> components, int m, double[] r)
    {
        var dynamics = new ContinuousTimeDynamics(components);
        var n = dynamics.StateDimension;
        var h = new double[m * n];
        dynamics.WriteObservation(h);
        double[] mean = new double[n], cov = new double[n * n], diffuse = new double[n * n];
        dynamics.WriteInitial(mean, cov, diffuse);
        return new LinearGaussianModel(dynamics, m, h, r, mean, cov, diffuse);
    }

    /// <summary>The data-generating model: the same dynamics with a proper prior around a level far from zero.</summary>
    private static LinearGaussianModel Truth(LinearGaussianModel model, Random rng)
    {
        var n = model.StateDimension;
        var mean = Enumerable.Range(0, n).Select(_ => 20 * GaussianSimulation.Normal(rng)).ToArray();
        var cov = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            cov[(i * n) + i] = 1.0;
        }

        var h = model.Observation.ToArray();
        return new LinearGaussianModel(model.Dynamics, model.ObservationDimension, h, model.ObservationNoise, mean, cov);
    }

    /// <summary>Regular gaps, or irregular ones spread over a factor of 10 around <paramref name="gap"/>.</summary>
    private static double[] Gaps(Random rng, double gap, int length)
    {
        var regular = rng.NextDouble() < 0.5;
        return [.. Enumerable.Range(0, length).Select(t => t == 0 ? 0.0 : regular ? gap : gap * Math.Pow(10, rng.NextDouble() - 0.5))];
    }

    private static double LogUniform(Random rng, double low, double high) =>
        Math.Exp(Math.Log(low) + ((Math.Log(high) - Math.Log(low)) * rng.NextDouble()));
}
