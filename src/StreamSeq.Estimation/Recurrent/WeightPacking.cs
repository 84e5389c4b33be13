using System.Globalization;
using System.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// Reads PyTorch-layout recurrent weights (gate blocks stacked as rows of <c>weight_ih_l{k}</c> and
/// <c>weight_hh_l{k}</c>) and packs them into the engines' layout: a (K × gates·H) row-major matrix whose rows are the
/// input components followed by the hidden components, with the gate blocks in the order the engine wants.
/// </summary>
internal static class WeightPacking
{
    public static string Name(string stem, int layer) => string.Create(CultureInfo.InvariantCulture, $"{stem}_l{layer}");

    /// <summary>Packs the selected gate blocks (PyTorch block indices in <paramref name="gateOrder"/>) of the input
    /// weights (rows 0..inputWidth-1 of the result, when given) and the recurrent weights (the following H rows, when
    /// given).</summary>
    public static T[] PackColumns<T>(T[]? inputWeights, int inputWidth, T[]? recurrentWeights, int hiddenSize, ReadOnlySpan<int> gateOrder)
        where T : INumberBase<T>
    {
        var n = gateOrder.Length * hiddenSize;
        var k1 = inputWeights is null ? 0 : inputWidth;
        var k2 = recurrentWeights is null ? 0 : hiddenSize;
        var packed = new T[(k1 + k2) * n];
        for (var block = 0; block < gateOrder.Length; block++)
        {
            for (var u = 0; u < hiddenSize; u++)
            {
                var sourceRow = (gateOrder[block] * hiddenSize) + u;
                var column = (block * hiddenSize) + u;
                for (var k = 0; k < k1; k++)
                {
                    packed[(k * n) + column] = inputWeights![(sourceRow * inputWidth) + k];
                }

                for (var k = 0; k < k2; k++)
                {
                    packed[((k1 + k) * n) + column] = recurrentWeights![(sourceRow * hiddenSize) + k];
                }
            }
        }

        return packed;
    }

    /// <summary>Sums the given biases over the selected gate blocks.</summary>
    public static T[] PackBias<T>(T[]? inputBias, T[]? recurrentBias, int hiddenSize, ReadOnlySpan<int> gateOrder)
        where T : INumberBase<T>
    {
        var packed = new T[gateOrder.Length * hiddenSize];
        for (var block = 0; block < gateOrder.Length; block++)
        {
            for (var u = 0; u < hiddenSize; u++)
            {
                var source = (gateOrder[block] * hiddenSize) + u;
                var value = T.Zero;
                if (inputBias is not null)
                {
                    value += inputBias[source];
                }

                if (recurrentBias is not null)
                {
                    value += recurrentBias[source];
                }

                packed[(block * hiddenSize) + u] = value;
            }
        }

        return packed;
    }

    /// <summary>Reads layer <paramref name="layer"/>'s four PyTorch tensors, checking names and shapes.</summary>
    public static (T[] InputWeights, T[] RecurrentWeights, T[] InputBias, T[] RecurrentBias) ReadLayer<T>(
        StateDictionary weights, int layer, int inputWidth, int hiddenSize, int gateCount)
        where T : INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(weights);
        var rows = gateCount * hiddenSize;
        return (
            weights.GetValues<T>(Name("weight_ih", layer), rows, inputWidth),
            weights.GetValues<T>(Name("weight_hh", layer), rows, hiddenSize),
            weights.GetValues<T>(Name("bias_ih", layer), rows),
            weights.GetValues<T>(Name("bias_hh", layer), rows));
    }
}
