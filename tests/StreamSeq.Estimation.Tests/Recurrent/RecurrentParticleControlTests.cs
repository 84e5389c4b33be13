using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>
/// The <c>recurrent-particle</c> kind on a net with a control input: every reading's control enters the particles'
/// step cell(h, [z_{t-1}, u_t]), the first reading's included (h_1 = cell(h_0, [y_0, u_1])), as in the net.
/// </summary>
/// <remarks>
/// The PyTorch oracle nets (Fixtures/rnn, float64, non-zero initial state of stream 1) are read as controlled nets,
/// x_t = [y_{t-1} (2 values), u_t], with u_t = x_{t-1}[2] the control of reading t and y_0 = x_0[0..2). With no process
/// noise, no initial variance and a head variance of 1e-20 every particle carries the same h and z = ŷ(h) to within
/// 1e-10, so the filter follows the net run closed loop on its own outputs, h_t = cell(h_{t-1}, [ŷ_{t-1}, u_t]), whatever
/// the readings (the sensor R = 0.01 only weighs identical particles). Its predicted mean of y_t is then ŷ_t, and its
/// log predictive density log N(y_t; ŷ_t, R). Reference: reading 1 is PyTorch's own output at t = 0 (the same input
/// x_0); the closed-loop run is Fixtures/rnn/make_closed_loop_controls.py, a numpy float64 implementation that
/// reproduces PyTorch's teacher-forced outputs to 1.1e-16 before it runs closed loop. Controls treated as missing move
/// ŷ by 1.5e-3 (LSTM) and 1.1e-2 (GRU) at reading 1 and up to 6.4e-3 and 5.1e-2 over the run. The tolerance of the
/// mean, 1e-8, covers the head's noise (standard deviation 1e-10) and rounding (measured: at most 4e-11), five orders
/// below that gap; the log density's, 1e-6, covers the same noise amplified by (y − ŷ)/R (measured: at most 5.6e-9).
/// </remarks>
public sealed class RecurrentParticleControlTests : IDisposable
{
    private const int Stream = 1;
    private const double SensorVariance = 0.01;
    private const double Tolerance = 1e-8;

    // No process noise, no initial variance, the sensor, and few particles (all of them carry the same state).
    private const string ClosedLoop = "\"processNoise\":0,\"initialVariance\":0,\"observationNoise\":0.01,\"particles\":64";
    private readonly string folder = Directory.CreateTempSubdirectory("streamseq-rpf-controls-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData("lstm", "bootstrap")]
    [InlineData("gru", "bootstrap")]
    [InlineData("lstm", "auxiliary")]
    [InlineData("gru", "auxiliary")]
    public void ParticleKind_ControlledPyTorchOracle_FollowsTheNetOnItsControlsFromTheFirstReading(string cell, string filter)
    {
        var x = RnnFixtures.Inputs()[Stream];
        var pytorch = RnnFixtures.Outputs($"{cell}_nonzeroinit_f64_outputs.csv")[Stream];
        var closedLoop = RnnFixtures.ReadCsv($"{cell}_closedloop_controls_f64.csv");
        // essThreshold 1 makes the auxiliary filter resample by its look-ahead at every step, so the look-ahead and the
        // prediction pushed through the transition from the population before it both run with the control.
        var particle = ModelCatalog.Build(ModelSpec.Load(WriteSpec(cell, "recurrent-particle", $"{ClosedLoop},\"filter\":\"{filter}\",\"essThreshold\":1")));
        Assert.IsType<ParticleFilter>(particle);
        Assert.Equal(1, particle.Info.ControlDimension);

        // Reading 1 against PyTorch itself, and the gap that ignoring u_1 would leave.
        Assert.True(Math.Abs(closedLoop[0]["yhat_0"] - closedLoop[0]["yhat_nocontrol_0"]) + Math.Abs(closedLoop[0]["yhat_1"] - closedLoop[0]["yhat_nocontrol_1"]) > 1e-3);
        Expect.Close(pytorch[0].Y[0], closedLoop[0]["yhat_0"], 0.0, "closed-loop reference at reading 1", absTol: 1e-15);
        var state = new double[particle.Info.StateLength];
        particle.Initialize(state, 5);
        var estimate = new Estimate(particle.Info);
        for (var t = 1; t < RnnFixtures.Steps; t++)
        {
            var row = closedLoop[t - 1];
            double[] y = [x[t][0], x[t][1]];
            double[] u = [x[t - 1][2]];
            Assert.Equal(u[0], row["u"]);
            particle.Step(state, new Observation(y, control: u), estimate, default);
            double[] yhat = [row["yhat_0"], row["yhat_1"]];
            if (t == 1)
            {
                Expect.Close(pytorch[0].Y, estimate.ObservationMean, 0.0, "reading 1 predicted mean vs PyTorch", absTol: Tolerance);
            }

            Expect.Close(yhat, estimate.ObservationMean, 0.0, $"reading {t} predicted mean", absTol: Tolerance);
            var d0 = y[0] - yhat[0];
            var d1 = y[1] - yhat[1];
            var logDensity = -0.5 * ((2.0 * Math.Log(2.0 * Math.PI * SensorVariance)) + (((d0 * d0) + (d1 * d1)) / SensorVariance));
            Expect.Close(logDensity, estimate.LogLikelihood, 0.0, $"reading {t} log predictive density", absTol: 1e-6);
        }
    }

    /// <summary>The prior reported before any reading is the net's first step with the control missing; the first
    /// reading's control replaces it, and a reading without a control keeps it.</summary>
    [Fact]
    public void ParticleKind_FirstReadingWithoutAControl_KeepsThePriorWithTheControlMissing()
    {
        var closedLoop = RnnFixtures.ReadCsv("gru_closedloop_controls_f64.csv");
        var particle = ModelCatalog.Build(ModelSpec.Load(WriteSpec("gru", "recurrent-particle", ClosedLoop)));
        var state = new double[particle.Info.StateLength];
        particle.Initialize(state, 5);
        var estimate = new Estimate(particle.Info);
        particle.Step(state, new Observation([0.1, 0.2]), estimate, default);
        Expect.Close([closedLoop[0]["yhat_nocontrol_0"], closedLoop[0]["yhat_nocontrol_1"]], estimate.ObservationMean, 0.0, "reading 1 without a control", absTol: Tolerance);
    }

    /// <summary>
    /// Noisy regime: readings simulated from the controlled GRU's own state-space reading (Fixtures/rnn/
    /// gru_simulated_controls_f64.csv: head variance 0.01, sensor 0.01, no process noise, the oracle's controls), where the
    /// head's noise is small enough for the unscented filter to be nearly exact, so the particle filter must agree with
    /// <c>recurrent-ukf</c> on the same spec. Measured over seeds 5, 6, 7: the largest gap in the predicted mean over the
    /// 49 readings is 7e-3 at 2,000 particles, 3.6e-3 at 10,000 and 2e-3 at 40,000 (Monte Carlo error, shrinking as
    /// 1/√N), and in a reading's log predictive density 0.13, 0.09 and 0.05; the same particle filter with the
    /// controls dropped is 0.05 and 0.6 away at every N. The tolerances (0.015 and 0.25 at 10,000 particles) sit about
    /// four and three times above the measured Monte Carlo error and three and two times below the gap without controls.
    /// </summary>
    [Fact]
    public void ParticleKind_ControlledGruOnItsOwnSimulatedReadings_AgreesWithTheUnscentedKind()
    {
        var readings = RnnFixtures.ReadCsv("gru_simulated_controls_f64.csv");
        const string noise = "\"processNoise\":0,\"initialVariance\":0,\"observationNoise\":0.01";
        var particle = ModelCatalog.Build(ModelSpec.Load(WriteSpec("gru", "recurrent-particle", $"{noise},\"particles\":10000", headVariance: 0.01)));
        var ukf = ModelCatalog.Build(ModelSpec.Load(WriteSpec("gru", "recurrent-ukf", noise, headVariance: 0.01)));
        var a = RunReadings(particle, readings);
        var b = RunReadings(ukf, readings);
        for (var t = 0; t < a.Count; t++)
        {
            Expect.Close(b[t].Mean, a[t].Mean, 0.0, $"reading {t + 1} predicted mean", absTol: 0.015);
            Expect.Close(b[t].LogLikelihood, a[t].LogLikelihood, 0.0, $"reading {t + 1} log predictive density", absTol: 0.25);
        }
    }

    /// <summary>A re-initialised step assimilates its reading as a stream's first reading, so its prior of h_1 reads
    /// that reading's control, as a new stream's does: after a reading no particle can explain (1e200, density 0 under
    /// every particle) the stream predicts what a stream starting at that reading (its value missing, its control
    /// given) predicts, to 1e-8 (both carry identical particles up to the head's noise of 1e-10). The prior without
    /// the control would differ by up to 1e-2 here.</summary>
    [Fact]
    public void ParticleKind_ReinitialisedStep_DrawsThePriorWithItsReadingsControl()
    {
        var x = RnnFixtures.Inputs()[Stream];
        var spec = ModelSpec.Load(WriteSpec("gru", "recurrent-particle", ClosedLoop));
        var interrupted = ModelCatalog.Build(spec);
        var fresh = ModelCatalog.Build(spec);
        var a = new double[interrupted.Info.StateLength];
        var b = new double[fresh.Info.StateLength];
        interrupted.Initialize(a, 5);
        fresh.Initialize(b, 9);
        var ea = new Estimate(interrupted.Info);
        var eb = new Estimate(fresh.Info);
        const int restart = 20;
        for (var t = 1; t < RnnFixtures.Steps; t++)
        {
            double[] u = [x[t - 1][2]];
            if (t < restart)
            {
                interrupted.Step(a, new Observation([x[t][0], x[t][1]], control: u), ea, default);
                continue;
            }

            if (t == restart)
            {
                interrupted.Step(a, new Observation([1e200, 1e200], control: u), ea, default);
                Assert.True((ea.Flags & EstimateFlags.Reinitialized) != 0);
                fresh.Step(b, new Observation([double.NaN, double.NaN], control: u), eb, default);
                continue;
            }

            interrupted.Step(a, new Observation([x[t][0], x[t][1]], control: u), ea, default);
            fresh.Step(b, new Observation([x[t][0], x[t][1]], control: u), eb, default);
            Expect.Close(eb.ObservationMean, ea.ObservationMean, 0.0, $"reading {t} predicted mean", absTol: Tolerance);
        }
    }

    /// <summary>The model built through the public API (backend and layout of the deterministic net) and given to a
    /// <see cref="ParticleFilter"/>: the filter reports the control dimension and passes each reading's control. Before,
    /// it reported none and dropped the controls it was given, and its predictions were those of the net with every
    /// control missing (1.1e-2 away from the net's at reading 1 here).</summary>
    [Fact]
    public void ParticleFilter_RecurrentModelWithAControl_UsesEveryReadingsControl()
    {
        var x = RnnFixtures.Inputs()[Stream];
        var closedLoop = RnnFixtures.ReadCsv("gru_closedloop_controls_f64.csv");
        var net = Assert.IsType<StreamSeq.Estimation.Recurrent.RecurrentEstimator>(ModelCatalog.Build(ModelSpec.Load(WriteSpec("gru", "recurrent", null))));
        var model = new StreamSeq.Estimation.Recurrent.RecurrentParticleModel(net.Backend, net.Layout, [0.0], [SensorVariance, 0.0, 0.0, SensorVariance], [0.0]);
        var particle = new ParticleFilter(model, new ParticleFilterOptions { ParticleCount = 64 });
        Assert.Equal(1, particle.Info.ControlDimension);
        var state = new double[particle.Info.StateLength];
        particle.Initialize(state, 5);
        var estimate = new Estimate(particle.Info);
        for (var t = 1; t < RnnFixtures.Steps; t++)
        {
            var row = closedLoop[t - 1];
            particle.Step(state, new Observation([x[t][0], x[t][1]], control: [x[t - 1][2]]), estimate, default);
            Expect.Close([row["yhat_0"], row["yhat_1"]], estimate.ObservationMean, 0.0, $"reading {t} predicted mean", absTol: Tolerance);
        }
    }

    private static List<(double[] Mean, double LogLikelihood)> RunReadings(IEstimator estimator, List<Dictionary<string, double>> readings)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 5);
        var estimate = new Estimate(estimator.Info);
        var result = new List<(double[], double)>();
        foreach (var row in readings)
        {
            estimator.Step(state, new Observation([row["y_0"], row["y_1"]], control: [row["u"]]), estimate, default);
            result.Add((estimate.ObservationMean.ToArray(), estimate.LogLikelihood));
        }

        return result;
    }

    private string WriteSpec(string cell, string kind, string? fields, double headVariance = 1e-20) =>
        RnnFixtures.WriteControlledSpec(folder, cell, kind, Stream, headVariance, fields);
}
