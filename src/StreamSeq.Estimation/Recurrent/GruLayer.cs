using System.Numerics;
using System.Numerics.Tensors;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// One GRU layer's packed weights and its batched step. The reset and update gates (r, z) read [x, h] through one
/// packed matrix with the summed biases; the candidate keeps its input part W_in x + b_in and its recurrent part
/// W_hn h + b_hn apart, because r multiplies the recurrent part bias included.
/// </summary>
internal sealed class GruLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // PyTorch row blocks are r=0, z=1, n=2.
    private static readonly int[] GateOrder = [0, 1];
    private static readonly int[] CandidateOrder = [2];

    private readonly T[] gateWeights;
    private readonly T[] gateBias;
    private readonly T[] candidateInputWeights;
    private readonly T[] candidateInputBias;
    private readonly T[] candidateRecurrentWeights;
    private readonly T[] candidateRecurrentBias;
    private readonly int inputWidth;
    private readonly int hiddenSize;

    public GruLayer(StateDictionary dictionary, int layer, int inputWidth, int hiddenSize)
    {
        var (wih, whh, bih, bhh) = WeightPacking.ReadLayer<T>(dictionary, layer, inputWidth, hiddenSize, 3);
        gateWeights = WeightPacking.PackColumns(wih, inputWidth, whh, hiddenSize, GateOrder);
        gateBias = WeightPacking.PackBias(bih, bhh, hiddenSize, GateOrder);
        candidateInputWeights = WeightPacking.PackColumns(wih, inputWidth, null, hiddenSize, CandidateOrder);
        candidateInputBias = WeightPacking.PackBias(bih, null, hiddenSize, CandidateOrder);
        candidateRecurrentWeights = WeightPacking.PackColumns(null, inputWidth, whh, hiddenSize, CandidateOrder);
        candidateRecurrentBias = WeightPacking.PackBias(null, bhh, hiddenSize, CandidateOrder);
        this.inputWidth = inputWidth;
        this.hiddenSize = hiddenSize;
    }

    public static int ScratchPerStream(int hiddenSize) => 4 * hiddenSize;

    public void Step(int batch, ReadOnlySpan<T> input, int inputStride, Span<T> states, int stateStride, int hiddenOffset, Span<T> scratch)
    {
        var h = hiddenSize;
        var gates = scratch[..(batch * 2 * h)];
        var candidate = scratch.Slice(batch * 2 * h, batch * h);
        var recurrent = scratch.Slice(batch * 3 * h, batch * h);
        ReadOnlySpan<T> hidden = states[hiddenOffset..];

        GemmKernel.Run<T>(batch, input, inputStride, inputWidth, hidden, stateStride, h, gateWeights, 2 * h, gateBias, gates, 2 * h, 2 * h);
        GemmKernel.Run<T>(batch, input, inputStride, inputWidth, default, 0, 0, candidateInputWeights, h, candidateInputBias, candidate, h, h);
        GemmKernel.Run<T>(batch, default, 0, 0, hidden, stateStride, h, candidateRecurrentWeights, h, candidateRecurrentBias, recurrent, h, h);

        Activations.Sigmoid<T>(gates);
        for (var b = 0; b < batch; b++)
        {
            CellMath.MultiplyAdd<T>(gates.Slice(b * 2 * h, h), recurrent.Slice(b * h, h), candidate.Slice(b * h, h));
        }

        Activations.Tanh<T>(candidate);
        for (var b = 0; b < batch; b++)
        {
            CellMath.GruBlend<T>(gates.Slice((b * 2 * h) + h, h), candidate.Slice(b * h, h), states.Slice((b * stateStride) + hiddenOffset, h));
        }
    }
}
