using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian.Nonlinear;

/// <summary>Missing data, step indices, repairs and re-initialisation of the nonlinear Gaussian filters.</summary>
public sealed class NonlinearGuardRailTests
{
    public static TheoryData<string> Filters => ["ekf", "ukf"];

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_WhollyMissingObservation_PredictsOnly(string filter)
    {
        var est = Build(filter, NonlinearFixtures.PendulumModel());
        var state = new double[est.Info.StateLength];
        est.Initialize(state, 0);
        var e = new Estimate(est.Info);
        est.Step(state, new Observation([0.8]), e, default);
        est.Step(state, new Observation([double.NaN]), e, default);
        Assert.True(double.IsNaN(e.LogLikelihood));
        Assert.True(double.IsNaN(e.NormalizedInnovationSquared));
        Assert.Equal(0, e.ObservedCount);
        Assert.Equal(EstimateFlags.None, e.Flags);
        Assert.Equal(e.PredictedMean, e.StateMean);
        Assert.Equal(e.PredictedCovariance, e.StateCovariance);
        Assert.All(e.ObservationMean, v => Assert.True(double.IsFinite(v)));
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_TransitionContext_CarriesStepIndexGapAndControl(string filter)
    {
        foreach (var atZero in new[] { false, true })
        {
            var seen = new List<(long Step, double Gap, double Control)>();
            var model = new NonlinearGaussianModel(
                1,
                1,
                (x, c, next) =>
                {
                    seen.Add((c.Step, c.TimeGap, c.Control.IsEmpty ? double.NaN : c.Control[0]));
                    next[0] = x[0];
                },
                NonlinearGaussianModel.ConstantTransitionNoise([1.0]),
                (x, y) => y[0] = x[0],
                [1.0],
                [0.0],
                [1.0],
                controlDimension: 1,
                usesTimeGap: true,
                priorAtTimeZero: atZero);
            var est = Build(filter, model);
            var state = new double[est.Info.StateLength];
            est.Initialize(state, 0);
            var e = new Estimate(est.Info);
            for (var t = 0; t < 4; t++)
            {
                seen.Clear();
                est.Step(state, new Observation([1.0], timeGap: 0.5 + t, control: [10.0 + t]), e, default);
                var expectedStep = atZero ? t + 1 : t + 1;
                if (t == 0 && !atZero)
                {
                    Assert.Empty(seen);
                    continue;
                }

                Assert.NotEmpty(seen);
                Assert.All(seen, s => Assert.Equal((expectedStep, t == 0 ? 1.0 : 0.5 + t, 10.0 + t), s));
            }

            seen.Clear();
            var before = (double[])state.Clone();
            est.Forecast(state, 2.0, new Forecast(est.Info, 3));
            Assert.Equal(before, state);
            Assert.Equal([5L, 6L, 7L], seen.Select(s => s.Step).Distinct());
            Assert.All(seen, s => Assert.Equal(2.0, s.Gap));
        }
    }

    [Fact]
    public void Step_NegativeCovarianceWeightMakesPredictionIndefinite_RobustRepairsExactReinitialises()
    {
        // f(x) = x² with β = −10 gives W^c_0 = −10 and P⁻ = β + Q < 0: FilterPy's "not positive definite".
        var model = new NonlinearGaussianModel(
            1,
            1,
            (x, _, next) => next[0] = x[0] * x[0],
            NonlinearGaussianModel.ConstantTransitionNoise([0.1]),
            (x, y) => y[0] = x[0],
            [1.0],
            [0.0],
            [1.0],
            priorAtTimeZero: true);
        var points = SigmaPoints.Merwe(1.0, -10.0, 0.0);

        var robust = new UnscentedKalmanFilter(model, points);
        var state = new double[robust.Info.StateLength];
        robust.Initialize(state, 0);
        var e = new Estimate(robust.Info);
        robust.Step(state, new Observation([0.5]), e, default);
        Assert.Equal(EstimateFlags.Repaired, e.Flags);
        Assert.Equal(0.0, e.PredictedCovariance[0]);
        Assert.True(e.StateCovariance[0] >= 0.0);
        Assert.True(double.IsFinite(e.LogLikelihood));

        var exact = new UnscentedKalmanFilter(model, points, robust: false);
        exact.Initialize(state, 0);
        exact.Step(state, new Observation([0.5]), e, default);
        Assert.True((e.Flags & EstimateFlags.Reinitialized) != 0);
        Assert.True(double.IsNaN(e.LogLikelihood));
        Assert.Equal([0.0], e.StateMean);
        Assert.Equal([1.0], e.StateCovariance);
        Assert.All(e.PredictedCovariance, v => Assert.True(double.IsFinite(v)));
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_DivergingState_RestartsFromThePriorWithTheReadingAsTheFirstWithoutEmittingNaN(string filter)
    {
        // Every prediction overflows, so every step after the first restarts from the prior N(2, 1) and assimilates its
        // reading 1 as a stream's first step does (no prediction): N(1.5, 0.5), log N(1; 2, 2).
        var model = new NonlinearGaussianModel(
            1,
            1,
            (x, _, next) => next[0] = x[0] * 1e200,
            NonlinearGaussianModel.ConstantTransitionNoise([1.0]),
            (x, y) => y[0] = x[0],
            [1.0],
            [2.0],
            [1.0],
            (_, _, j) => j[0] = 1e200);
        var est = Build(filter, model);
        var state = new double[est.Info.StateLength];
        est.Initialize(state, 0);
        var e = new Estimate(est.Info);
        var reinitialised = 0;
        for (var t = 0; t < 6; t++)
        {
            est.Step(state, new Observation([1.0]), e, default);
            if ((e.Flags & EstimateFlags.Reinitialized) != 0)
            {
                reinitialised++;
                Assert.Equal(-0.5 * (Math.Log(2 * Math.PI * 2.0) + 0.5), e.LogLikelihood, 1e-12);
                Assert.Equal(1.5, e.StateMean[0], 1e-12);
                Assert.Equal(0.5, e.StateCovariance[0], 1e-12);
            }

            foreach (var buffer in new[] { e.PredictedMean, e.PredictedCovariance, e.ObservationMean, e.ObservationCovariance, e.StateMean, e.StateCovariance })
            {
                Assert.All(buffer, v => Assert.False(double.IsNaN(v), $"t={t + 1}: NaN emitted"));
            }
        }

        Assert.True(reinitialised >= 1);
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_SingularInnovationCovariance_SkipsTheUpdate(string filter)
    {
        // A known state observed without noise: S = 0 cannot be inverted.
        var model = new NonlinearGaussianModel(
            1,
            1,
            (x, _, next) => next[0] = x[0],
            NonlinearGaussianModel.ConstantTransitionNoise([0.0]),
            (x, y) => y[0] = x[0],
            [0.0],
            [3.0],
            [0.0]);
        var est = Build(filter, model);
        var state = new double[est.Info.StateLength];
        est.Initialize(state, 0);
        var e = new Estimate(est.Info);
        est.Step(state, new Observation([1.0]), e, default);
        Assert.Equal(EstimateFlags.ObservationSkipped, e.Flags);
        Assert.Equal(0, e.ObservedCount);
        Assert.True(double.IsNaN(e.LogLikelihood));
        Assert.Equal([3.0], e.StateMean);
    }

    [Fact]
    public void FiniteDifferences_Pendulum_AgreeWithAnalyticJacobians()
    {
        var model = NonlinearFixtures.PendulumModel();
        var work = new double[16];
        foreach (var x in new[] { new[] { 1.0, 0.0 }, [-2.5, 3.0], [1e-3, -40.0] })
        {
            var analytic = new double[4];
            var numeric = new double[4];
            var context = new TransitionContext(1.0, 3);
            model.TransitionJacobian!(x, context, analytic);
            FiniteDifferences.Transition(model.Transition, x, context, 2, numeric, work);
            Expect.Close(analytic, numeric, 1e-9, $"F at [{x[0]}, {x[1]}]");
            var ha = new double[2];
            var hn = new double[2];
            model.ObservationJacobian!(x, ha);
            FiniteDifferences.Observation(model.Observation, x, 2, 1, hn, work);
            Expect.Close(ha, hn, 1e-9, $"H at [{x[0]}, {x[1]}]");
        }
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void Step_ReadingWhoseInnovationOverflows_SkippedScoredAsImpossibleAndTheStreamGoesOn(string filter)
    {
        foreach (var model in new[] { NonlinearFixtures.PendulumModel(), NonlinearFixtures.GrowthModel() })
        {
            var est = Build(filter, model);
            var state = new double[est.Info.StateLength];
            est.Initialize(state, 0);
            var e = new Estimate(est.Info);
            var forecast = new Forecast(est.Info, 2);
            est.Step(state, new Observation([0.8]), e, default);
            foreach (var poison in new[] { 1e308, -1e308, double.MaxValue })
            {
                est.Step(state, new Observation([poison]), e, default);
                Assert.Equal(EstimateFlags.ObservationSkipped, e.Flags);
                Assert.Equal(double.NegativeInfinity, e.LogLikelihood);
                Assert.Equal(double.PositiveInfinity, e.NormalizedInnovationSquared);
                Assert.Equal(e.PredictedMean, e.StateMean);
                Assert.Equal(e.PredictedCovariance, e.StateCovariance);
                est.Forecast(state, 1.0, forecast);
                Assert.All(forecast.StateMean, v => Assert.True(double.IsFinite(v)));
            }

            est.Step(state, new Observation([0.7]), e, default);
            Assert.Equal(EstimateFlags.None, e.Flags & (EstimateFlags.Reinitialized | EstimateFlags.ObservationSkipped));
            Assert.True(double.IsFinite(e.LogLikelihood));
        }
    }

    private static IEstimator Build(string filter, NonlinearGaussianModel model) => filter switch
    {
        "ekf" => new ExtendedKalmanFilter(model),
        _ => new UnscentedKalmanFilter(model),
    };
}
