using System.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A multi-layer GRU with PyTorch's <c>nn.GRU</c> layout and semantics.
/// </summary>
/// <typeparam name="T">The floating-point type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <code>
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)        z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 − z) ⊙ n + z ⊙ h
/// </code>
/// <para>
/// The reset gate r multiplies the whole recurrent part of the candidate, bias b_hn included. Weights:
/// <c>weight_ih_l{k}</c> (3H × input width; row blocks r, z, n), <c>weight_hh_l{k}</c> (3H × H), <c>bias_ih_l{k}</c>,
/// <c>bias_hh_l{k}</c> (3H). The state of each layer is h.
/// </para>
/// </remarks>
public sealed class GruNetwork<T> : RecurrentNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly GruLayer<T>[] layers;

    /// <summary>Initializes a new instance of the <see cref="GruNetwork{T}"/> class from PyTorch-named weights.</summary>
    /// <param name="weights">The tensors <c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>,
    /// <c>bias_hh_l{k}</c> for every layer k.</param>
    /// <param name="inputSize">The input width of layer 0.</param>
    /// <param name="hiddenSize">The number of hidden units H per layer.</param>
    /// <param name="layerCount">The number of stacked layers.</param>
    /// <exception cref="InvalidDataException">A tensor is missing or misshaped; the message names it and the expected
    /// shape.</exception>
    public GruNetwork(StateDictionary weights, int inputSize, int hiddenSize, int layerCount = 1)
        : base(inputSize, hiddenSize, layerCount, 1, GruLayer<T>.ScratchPerStream(hiddenSize))
    {
        ArgumentNullException.ThrowIfNull(weights);
        layers = new GruLayer<T>[layerCount];
        for (var k = 0; k < layerCount; k++)
        {
            layers[k] = new GruLayer<T>(weights, k, k == 0 ? inputSize : hiddenSize, hiddenSize);
        }
    }

    /// <inheritdoc/>
    public override RecurrentCellKind CellKind => RecurrentCellKind.Gru;

    private protected override void StepLayer(
        int layer, int batch, ReadOnlySpan<T> layerInput, int inputStride, Span<T> states, Span<T> scratch) =>
        layers[layer].Step(batch, layerInput, inputStride, states, StateLength, GetHiddenOffset(layer), scratch);
}
