using System.Numerics;
using System.Numerics.Tensors;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// One LSTM layer's packed weights and its batched step, with optional diagonal peepholes. Packed gate column order is
/// [i, f, o | g]: the three sigmoid gates form one contiguous block and the tanh candidate another, so each block is
/// one matrix product and one activation call over the whole batch.
/// </summary>
internal sealed class LstmLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // PyTorch row blocks are i=0, f=1, g=2, o=3.
    private static readonly int[] PackedOrder = [0, 1, 3, 2];

    private readonly T[] weights;
    private readonly T[] bias;
    private readonly T[]? peepholeInput;
    private readonly T[]? peepholeForget;
    private readonly T[]? peepholeOutput;
    private readonly int inputWidth;
    private readonly int hiddenSize;

    public LstmLayer(StateDictionary dictionary, int layer, int inputWidth, int hiddenSize, bool peephole)
    {
        var (wih, whh, bih, bhh) = WeightPacking.ReadLayer<T>(dictionary, layer, inputWidth, hiddenSize, 4);
        weights = WeightPacking.PackColumns(wih, inputWidth, whh, hiddenSize, PackedOrder);
        bias = WeightPacking.PackBias(bih, bhh, hiddenSize, PackedOrder);
        if (peephole)
        {
            peepholeInput = dictionary.GetValues<T>(WeightPacking.Name("peephole_i", layer), hiddenSize);
            peepholeForget = dictionary.GetValues<T>(WeightPacking.Name("peephole_f", layer), hiddenSize);
            peepholeOutput = dictionary.GetValues<T>(WeightPacking.Name("peephole_o", layer), hiddenSize);
        }

        this.inputWidth = inputWidth;
        this.hiddenSize = hiddenSize;
    }

    public static int ScratchPerStream(int hiddenSize) => 5 * hiddenSize;

    public void Step(int batch, ReadOnlySpan<T> input, int inputStride, Span<T> states, int stateStride, int hiddenOffset, Span<T> scratch)
    {
        var h = hiddenSize;
        var n = 4 * h;
        var sig = scratch[..(batch * 3 * h)];
        var cand = scratch.Slice(batch * 3 * h, batch * h);
        var cellCopy = scratch.Slice(batch * 4 * h, batch * h);
        var cellOffset = hiddenOffset + h;
        ReadOnlySpan<T> hidden = states[hiddenOffset..];

        GemmKernel.Run<T>(batch, input, inputStride, inputWidth, hidden, stateStride, h, weights, n, bias, sig, 3 * h, 3 * h);
        GemmKernel.Run<T>(batch, input, inputStride, inputWidth, hidden, stateStride, h, weights.AsSpan(3 * h), n, bias.AsSpan(3 * h), cand, h, h);

        if (peepholeInput is null)
        {
            Activations.Sigmoid<T>(sig);
        }
        else
        {
            for (var b = 0; b < batch; b++)
            {
                var row = sig.Slice(b * 3 * h, 2 * h);
                ReadOnlySpan<T> c = states.Slice((b * stateStride) + cellOffset, h);
                CellMath.MultiplyAdd<T>(peepholeInput, c, row[..h]);
                CellMath.MultiplyAdd<T>(peepholeForget, c, row[h..]);
                Activations.Sigmoid<T>(row);
            }
        }

        Activations.Tanh<T>(cand);

        for (var b = 0; b < batch; b++)
        {
            var row = sig.Slice(b * 3 * h, 3 * h);
            CellMath.LstmCell<T>(row[..h], row.Slice(h, h), cand.Slice(b * h, h), states.Slice((b * stateStride) + cellOffset, h), cellCopy.Slice(b * h, h));
            if (peepholeOutput is not null)
            {
                var o = row.Slice(2 * h, h);
                CellMath.MultiplyAdd<T>(peepholeOutput, cellCopy.Slice(b * h, h), o);
                Activations.Sigmoid<T>(o);
            }
        }

        Activations.Tanh<T>(cellCopy);

        for (var b = 0; b < batch; b++)
        {
            CellMath.Multiply<T>(sig.Slice((b * 3 * h) + (2 * h), h), cellCopy.Slice(b * h, h), states.Slice((b * stateStride) + hiddenOffset, h));
        }
    }
}
