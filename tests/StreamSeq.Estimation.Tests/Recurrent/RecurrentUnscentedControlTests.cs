using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>
/// The <c>recurrent-ukf</c> kind on a net with a control input (the PyTorch oracle nets of Fixtures/rnn read as
/// controlled nets, as in <see cref="RecurrentParticleControlTests"/>): a re-initialised step restarts the stream from
/// the prior of h_1 given that reading's control, as a stream starting at that reading does.
/// </summary>
public sealed class RecurrentUnscentedControlTests : IDisposable
{
    private const int Stream = 1;
    private const string Noise = "\"processNoise\":1e-4,\"observationNoise\":0.01";
    private readonly string folder = Directory.CreateTempSubdirectory("streamseq-rukf-controls-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>A state gone non-finite (its first mean value NaN) re-initialises the stream at reading 20; the
    /// restarted step assimilates that reading as a stream's first, from the prior of h_1 given its control, so it and
    /// every later step equal those of a stream that begins at reading 20 (same reading, same control) to rounding.
    /// The control-free prior differs by up to 1e-2 in the predicted mean.</summary>
    [Theory]
    [InlineData("gru")]
    [InlineData("lstm")]
    public void UnscentedKind_ReinitialisedStep_StartsFromThePriorWithItsReadingsControl(string cell)
    {
        var x = RnnFixtures.Inputs()[Stream];
        var spec = ModelSpec.Load(WriteSpec(cell));
        var interrupted = ModelCatalog.Build(spec);
        var fresh = ModelCatalog.Build(spec);
        Assert.Equal(1, interrupted.Info.ControlDimension);
        var a = new double[interrupted.Info.StateLength];
        var b = new double[fresh.Info.StateLength];
        interrupted.Initialize(a, 5);
        fresh.Initialize(b, 5);
        var ea = new Estimate(interrupted.Info);
        var eb = new Estimate(fresh.Info);
        const int restart = 20;
        for (var t = 1; t < RnnFixtures.Steps; t++)
        {
            double[] y = [x[t][0], x[t][1]];
            double[] u = [x[t - 1][2]];
            if (t < restart)
            {
                interrupted.Step(a, new Observation(y, control: u), ea, default);
                continue;
            }

            if (t == restart)
            {
                // The state goes non-finite (as after an overflow); the filter must restart from its prior.
                a[2] = double.NaN;
            }

            interrupted.Step(a, new Observation(y, control: u), ea, default);
            fresh.Step(b, new Observation(y, control: u), eb, default);
            if (t == restart)
            {
                Assert.True((ea.Flags & EstimateFlags.Reinitialized) != 0, "the non-finite state re-initialises the stream");
            }

            Expect.Close(eb.PredictedMean, ea.PredictedMean, 0.0, $"reading {t} predicted state mean", absTol: 1e-12);
            Expect.Close(eb.ObservationMean, ea.ObservationMean, 0.0, $"reading {t} predicted mean", absTol: 1e-12);
            Expect.Close(eb.ObservationCovariance, ea.ObservationCovariance, 0.0, $"reading {t} predicted covariance", absTol: 1e-12);
            Expect.Close(eb.StateMean, ea.StateMean, 0.0, $"reading {t} state mean", absTol: 1e-12);
            Expect.Close(eb.LogLikelihood, ea.LogLikelihood, 0.0, $"reading {t} log predictive density", absTol: 1e-10);
        }
    }

    private string WriteSpec(string cell) =>
        RnnFixtures.WriteControlledSpec(folder, cell, "recurrent-ukf", Stream, 0.01, Noise);
}
