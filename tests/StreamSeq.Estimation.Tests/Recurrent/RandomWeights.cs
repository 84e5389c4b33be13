using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>Random PyTorch-named weights for tests, uniform in ±scale like PyTorch's default init.</summary>
internal static class RandomWeights
{
    public static StateDictionary Create(int seed, int gates, int inputSize, int hidden, int layers, bool peephole = false, bool zeroPeepholes = false, double scale = 0.5)
    {
        var random = new Random(seed);
        var tensors = new List<NamedTensor>();
        for (var l = 0; l < layers; l++)
        {
            var width = l == 0 ? inputSize : hidden;
            tensors.Add(Tensor(random, $"weight_ih_l{l}", scale, gates * hidden, width));
            tensors.Add(Tensor(random, $"weight_hh_l{l}", scale, gates * hidden, hidden));
            tensors.Add(Tensor(random, $"bias_ih_l{l}", scale, gates * hidden));
            tensors.Add(Tensor(random, $"bias_hh_l{l}", scale, gates * hidden));
            if (peephole)
            {
                foreach (var gate in new[] { "i", "f", "o" })
                {
                    tensors.Add(Tensor(random, $"peephole_{gate}_l{l}", zeroPeepholes ? 0 : scale, hidden));
                }
            }
        }

        return new StateDictionary(tensors);
    }

    public static NamedTensor Tensor(Random random, string name, double scale, params int[] shape)
    {
        var n = shape.Aggregate(1, (a, b) => a * b);
        var values = new double[n];
        for (var k = 0; k < n; k++)
        {
            values[k] = scale * ((2 * random.NextDouble()) - 1);
        }

        return NamedTensor.Create<double>(name, shape, values);
    }

    public static double[] Vector(Random random, int n, double scale = 1.0) =>
        Enumerable.Range(0, n).Select(_ => scale * ((2 * random.NextDouble()) - 1)).ToArray();
}
