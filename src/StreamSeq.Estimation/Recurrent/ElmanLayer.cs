using System.Numerics;
using System.Numerics.Tensors;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>One Elman layer's packed weights and its batched step: h' = act(W_ih x + b_ih + W_hh h + b_hh).</summary>
internal sealed class ElmanLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly int[] Order = [0];

    private readonly T[] weights;
    private readonly T[] bias;
    private readonly int inputWidth;
    private readonly int hiddenSize;
    private readonly ElmanActivation activation;

    public ElmanLayer(StateDictionary dictionary, int layer, int inputWidth, int hiddenSize, ElmanActivation activation)
    {
        var (wih, whh, bih, bhh) = WeightPacking.ReadLayer<T>(dictionary, layer, inputWidth, hiddenSize, 1);
        weights = WeightPacking.PackColumns(wih, inputWidth, whh, hiddenSize, Order);
        bias = WeightPacking.PackBias(bih, bhh, hiddenSize, Order);
        this.inputWidth = inputWidth;
        this.hiddenSize = hiddenSize;
        this.activation = activation;
    }

    public static int ScratchPerStream(int hiddenSize) => hiddenSize;

    public void Step(int batch, ReadOnlySpan<T> input, int inputStride, Span<T> states, int stateStride, int hiddenOffset, Span<T> scratch)
    {
        var h = hiddenSize;
        var pre = scratch[..(batch * h)];
        GemmKernel.Run<T>(batch, input, inputStride, inputWidth, states[hiddenOffset..], stateStride, h, weights, h, bias, pre, h, h);
        if (activation == ElmanActivation.Tanh)
        {
            Activations.Tanh<T>(pre);
        }
        else
        {
            TensorPrimitives.Max<T>(pre, T.Zero, pre);
        }

        for (var b = 0; b < batch; b++)
        {
            pre.Slice(b * h, h).CopyTo(states.Slice((b * stateStride) + hiddenOffset, h));
        }
    }
}
