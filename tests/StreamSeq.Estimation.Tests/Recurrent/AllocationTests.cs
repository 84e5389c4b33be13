using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>The hot path allocates nothing once warm (allocation counts, not timings).</summary>
public sealed class AllocationTests
{
    [Fact]
    public void Step_SteadyState_AllocatesNothing()
    {
        var weights = RnnFixtures.Weights("lstm");
        var network = new LstmNetwork<double>(weights, 3, 8, 2);
        var head = new LinearHead<double>(weights, 8, 2);
        var state = new double[network.StateLength];
        var x = new double[] { 0.1, -0.2, 0.3 };
        var y = new double[2];
        for (var k = 0; k < 100; k++)
        {
            network.Step(x, state);
            head.Evaluate(network.GetOutput(state), y);
        }

        Assert.Equal(0, SteadyStateAllocation.Fewest(() =>
        {
            for (var k = 0; k < 1000; k++)
            {
                network.Step(x, state);
                head.Evaluate(network.GetOutput(state), y);
            }
        }));
    }

    [Fact]
    public void StepBatch_SteadyState_AllocatesNothing()
    {
        var weights = RandomWeights.Create(3, 3, 4, 32, 2);
        var network = new GruNetwork<float>(weights, 4, 32, 2);
        const int batch = 64;
        var states = new float[batch * network.StateLength];
        var x = new float[batch * 4];
        for (var k = 0; k < 20; k++)
        {
            network.StepBatch(batch, x, states);
        }

        Assert.Equal(0, SteadyStateAllocation.Fewest(() =>
        {
            for (var k = 0; k < 100; k++)
            {
                network.StepBatch(batch, x, states);
            }
        }));
    }
}
