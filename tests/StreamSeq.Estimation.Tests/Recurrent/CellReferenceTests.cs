using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>Peephole LSTM, plain LSTM and Elman cells against the independent scalar recurrences.</summary>
public sealed class CellReferenceTests
{
    private const int InputSize = 5;
    private const int Hidden = 12;
    private const int Layers = 2;
    private const int Steps = 40;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Step_RandomWeights_MatchesScalarLstmReference(bool peephole)
    {
        var weights = RandomWeights.Create(11, 4, InputSize, Hidden, Layers, peephole);
        RecurrentNetwork<double> network = peephole
            ? new PeepholeLstmNetwork<double>(weights, InputSize, Hidden, Layers)
            : new LstmNetwork<double>(weights, InputSize, Hidden, Layers);
        var random = new Random(5);
        var state = new double[network.StateLength];
        var h = NewStates(random, Layers, Hidden);
        var c = NewStates(random, Layers, Hidden);
        for (var l = 0; l < Layers; l++)
        {
            h[l].CopyTo(state, network.GetHiddenOffset(l));
            c[l].CopyTo(state, network.GetCellOffset(l));
        }

        var maxError = 0.0;
        for (var t = 0; t < Steps; t++)
        {
            var x = RandomWeights.Vector(random, InputSize, 2.0);
            network.Step(x, state);
            ScalarReference.LstmStep(weights, InputSize, Hidden, Layers, peephole, x, h, c);
            for (var l = 0; l < Layers; l++)
            {
                maxError = Math.Max(maxError, MaxAbs(state.AsSpan(network.GetHiddenOffset(l), Hidden), h[l]));
                maxError = Math.Max(maxError, MaxAbs(state.AsSpan(network.GetCellOffset(l), Hidden), c[l]));
            }
        }

        Assert.True(maxError < 1e-12, $"max |engine − scalar reference| = {maxError:E3}");
    }

    [Fact]
    public void Step_PeepholeInfluence_ChangesTheTrajectory()
    {
        // Guards the comparison above against a peephole engine that ignores its peephole weights.
        var withPeepholes = RandomWeights.Create(11, 4, InputSize, Hidden, Layers, peephole: true);
        var peephole = new PeepholeLstmNetwork<double>(withPeepholes, InputSize, Hidden, Layers);
        var plain = new LstmNetwork<double>(withPeepholes, InputSize, Hidden, Layers);
        var random = new Random(3);
        var s1 = RandomWeights.Vector(random, peephole.StateLength);
        var s2 = (double[])s1.Clone();
        var x = RandomWeights.Vector(random, InputSize);
        peephole.Step(x, s1);
        plain.Step(x, s2);
        Assert.True(MaxAbs(s1, s2) > 1e-3);
    }

    [Fact]
    public void Step_ZeroPeepholeWeights_EqualsPlainLstm()
    {
        var weights = RandomWeights.Create(17, 4, InputSize, Hidden, Layers, peephole: true, zeroPeepholes: true);
        var peephole = new PeepholeLstmNetwork<double>(weights, InputSize, Hidden, Layers);
        var plain = new LstmNetwork<double>(weights, InputSize, Hidden, Layers);
        var random = new Random(8);
        var s1 = RandomWeights.Vector(random, plain.StateLength);
        var s2 = (double[])s1.Clone();
        for (var t = 0; t < Steps; t++)
        {
            var x = RandomWeights.Vector(random, InputSize, 2.0);
            peephole.Step(x, s1);
            plain.Step(x, s2);
            Assert.Equal(s2, s1);
        }
    }

    [Fact]
    public void Step_ZeroPeepholeWeightsSinglePrecision_EqualsPlainLstm()
    {
        var weights = RandomWeights.Create(19, 4, InputSize, Hidden, Layers, peephole: true, zeroPeepholes: true);
        var peephole = new PeepholeLstmNetwork<float>(weights, InputSize, Hidden, Layers);
        var plain = new LstmNetwork<float>(weights, InputSize, Hidden, Layers);
        var random = new Random(9);
        var s1 = RandomWeights.Vector(random, plain.StateLength).Select(v => (float)v).ToArray();
        var s2 = (float[])s1.Clone();
        for (var t = 0; t < Steps; t++)
        {
            var x = RandomWeights.Vector(random, InputSize, 2.0).Select(v => (float)v).ToArray();
            peephole.Step(x, s1);
            plain.Step(x, s2);
            Assert.Equal(s2, s1);
        }
    }

    [Theory]
    [InlineData(ElmanActivation.Tanh)]
    [InlineData(ElmanActivation.Relu)]
    public void Step_RandomWeights_MatchesScalarElmanReference(ElmanActivation activation)
    {
        var weights = RandomWeights.Create(23, 1, InputSize, Hidden, Layers, scale: 0.3);
        var network = new ElmanNetwork<double>(weights, InputSize, Hidden, Layers, activation);
        var random = new Random(6);
        var state = new double[network.StateLength];
        var h = NewStates(random, Layers, Hidden);
        for (var l = 0; l < Layers; l++)
        {
            h[l].CopyTo(state, network.GetHiddenOffset(l));
        }

        var maxError = 0.0;
        var zeros = 0;
        for (var t = 0; t < Steps; t++)
        {
            var x = RandomWeights.Vector(random, InputSize, 2.0);
            network.Step(x, state);
            ScalarReference.ElmanStep(weights, InputSize, Hidden, Layers, activation == ElmanActivation.Relu, x, h);
            for (var l = 0; l < Layers; l++)
            {
                maxError = Math.Max(maxError, MaxAbs(state.AsSpan(network.GetHiddenOffset(l), Hidden), h[l]));
                zeros += h[l].Count(v => v == 0);
            }
        }

        Assert.True(maxError < 1e-12, $"max |engine − scalar reference| = {maxError:E3}");
        if (activation == ElmanActivation.Relu)
        {
            Assert.True(zeros > 0, "the ReLU case should exercise the clipped branch");
        }
    }

    [Theory]
    [InlineData(ElmanActivation.Tanh)]
    [InlineData(ElmanActivation.Relu)]
    public void Step_SinglePrecisionElman_MatchesScalarReferenceToFloatAccuracy(ElmanActivation activation)
    {
        var weights = RandomWeights.Create(29, 1, InputSize, Hidden, 1, scale: 0.3);
        var network = new ElmanNetwork<float>(weights, InputSize, Hidden, 1, activation);
        var random = new Random(7);
        var state = new float[network.StateLength];
        var h = new[] { new double[Hidden] };
        var maxError = 0.0;
        for (var t = 0; t < Steps; t++)
        {
            var x = RandomWeights.Vector(random, InputSize, 2.0).Select(v => (double)(float)v).ToArray();
            network.Step(x.Select(v => (float)v).ToArray(), state);
            ScalarReference.ElmanStep(weights, InputSize, Hidden, 1, activation == ElmanActivation.Relu, x, h);
            maxError = Math.Max(maxError, MaxAbs(state.Select(v => (double)v).ToArray(), h[0]));
        }

        Assert.True(maxError < 1e-5, $"max |float engine − double reference| = {maxError:E3}");
    }

    private static double[][] NewStates(Random random, int layers, int hidden) =>
        Enumerable.Range(0, layers).Select(_ => RandomWeights.Vector(random, hidden, 0.8)).ToArray();

    private static double MaxAbs(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0.0;
        for (var k = 0; k < a.Length; k++)
        {
            max = Math.Max(max, Math.Abs(a[k] - b[k]));
        }

        return max;
    }
}
