using System.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A multi-layer LSTM with diagonal peephole connections (Gers, Schraudolph and Schmidhuber, 2002), in PyTorch's
/// weight layout.
/// </summary>
/// <typeparam name="T">The floating-point type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <para>The input and forget gates look at the previous cell c, the output gate at the new cell c':</para>
/// <code>
/// i = σ(W_ii x + W_hi h + p_i ⊙ c + b_i)     f = σ(W_if x + W_hf h + p_f ⊙ c + b_f)
/// g = tanh(W_ig x + W_hg h + b_g)           c' = f ⊙ c + i ⊙ g
/// o = σ(W_io x + W_ho h + p_o ⊙ c' + b_o)    h' = o ⊙ tanh(c')
/// </code>
/// <para>
/// b = b_ih + b_hh. Weights use the names of <see cref="LstmNetwork{T}"/> plus the diagonal peephole vectors
/// <c>peephole_i_l{k}</c>, <c>peephole_f_l{k}</c> and <c>peephole_o_l{k}</c> (H values each) holding p_i, p_f and p_o.
/// With all peephole weights zero the cell is exactly the plain LSTM.
/// </para>
/// </remarks>
public sealed class PeepholeLstmNetwork<T> : RecurrentNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly LstmLayer<T>[] layers;

    /// <summary>Initializes a new instance of the <see cref="PeepholeLstmNetwork{T}"/> class from named weights.</summary>
    /// <param name="weights">The LSTM tensors of every layer plus <c>peephole_{i,f,o}_l{k}</c>.</param>
    /// <param name="inputSize">The input width of layer 0.</param>
    /// <param name="hiddenSize">The number of hidden units H per layer.</param>
    /// <param name="layerCount">The number of stacked layers.</param>
    /// <exception cref="InvalidDataException">A tensor is missing or misshaped; the message names it and the expected
    /// shape.</exception>
    public PeepholeLstmNetwork(StateDictionary weights, int inputSize, int hiddenSize, int layerCount = 1)
        : base(inputSize, hiddenSize, layerCount, 2, LstmLayer<T>.ScratchPerStream(hiddenSize))
    {
        ArgumentNullException.ThrowIfNull(weights);
        layers = new LstmLayer<T>[layerCount];
        for (var k = 0; k < layerCount; k++)
        {
            layers[k] = new LstmLayer<T>(weights, k, k == 0 ? inputSize : hiddenSize, hiddenSize, peephole: true);
        }
    }

    /// <inheritdoc/>
    public override RecurrentCellKind CellKind => RecurrentCellKind.PeepholeLstm;

    private protected override void StepLayer(
        int layer, int batch, ReadOnlySpan<T> layerInput, int inputStride, Span<T> states, Span<T> scratch) =>
        layers[layer].Step(batch, layerInput, inputStride, states, StateLength, GetHiddenOffset(layer), scratch);
}
