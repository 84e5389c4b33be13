using System.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A multi-layer LSTM with PyTorch's <c>nn.LSTM</c> layout and semantics.
/// </summary>
/// <typeparam name="T">The floating-point type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <para>For each layer, with x its input and (h, c) its previous state:</para>
/// <code>
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g                        h' = o ⊙ tanh(c')
/// </code>
/// <para>
/// Weights come from a <see cref="StateDictionary"/> with PyTorch names: <c>weight_ih_l{k}</c> (4H × input width:
/// the rows are the gate blocks i, f, g, o), <c>weight_hh_l{k}</c> (4H × H), <c>bias_ih_l{k}</c> and
/// <c>bias_hh_l{k}</c> (4H). Layer 0's input width is <see cref="RecurrentNetwork{T}.InputSize"/>; layer k &gt; 0 reads
/// layer k − 1's h. The state of each layer is h then c.
/// </para>
/// </remarks>
public sealed class LstmNetwork<T> : RecurrentNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly LstmLayer<T>[] layers;

    /// <summary>Initializes a new instance of the <see cref="LstmNetwork{T}"/> class from PyTorch-named weights.</summary>
    /// <param name="weights">The tensors <c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>,
    /// <c>bias_hh_l{k}</c> for k = 0 .. <paramref name="layerCount"/> − 1 (other tensors are ignored).</param>
    /// <param name="inputSize">The input width of layer 0.</param>
    /// <param name="hiddenSize">The number of hidden units H per layer.</param>
    /// <param name="layerCount">The number of stacked layers.</param>
    /// <exception cref="InvalidDataException">A tensor is missing or misshaped; the message names it and the expected
    /// shape.</exception>
    public LstmNetwork(StateDictionary weights, int inputSize, int hiddenSize, int layerCount = 1)
        : base(inputSize, hiddenSize, layerCount, 2, LstmLayer<T>.ScratchPerStream(hiddenSize))
    {
        ArgumentNullException.ThrowIfNull(weights);
        layers = new LstmLayer<T>[layerCount];
        for (var k = 0; k < layerCount; k++)
        {
            layers[k] = new LstmLayer<T>(weights, k, k == 0 ? inputSize : hiddenSize, hiddenSize, peephole: false);
        }
    }

    /// <inheritdoc/>
    public override RecurrentCellKind CellKind => RecurrentCellKind.Lstm;

    private protected override void StepLayer(
        int layer, int batch, ReadOnlySpan<T> layerInput, int inputStride, Span<T> states, Span<T> scratch) =>
        layers[layer].Step(batch, layerInput, inputStride, states, StateLength, GetHiddenOffset(layer), scratch);
}
