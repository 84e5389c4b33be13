using System.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A multi-layer Elman network with PyTorch's <c>nn.RNN</c> layout and semantics.
/// </summary>
/// <typeparam name="T">The floating-point type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <code>h' = act(W_ih x + b_ih + W_hh h + b_hh)</code>
/// <para>
/// act is tanh or ReLU (<see cref="Activation"/>). Weights: <c>weight_ih_l{k}</c> (H × input width),
/// <c>weight_hh_l{k}</c> (H × H), <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> (H). The state of each layer is h.
/// </para>
/// </remarks>
public sealed class ElmanNetwork<T> : RecurrentNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ElmanLayer<T>[] layers;

    /// <summary>Initializes a new instance of the <see cref="ElmanNetwork{T}"/> class from PyTorch-named weights.</summary>
    /// <param name="weights">The tensors <c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>,
    /// <c>bias_hh_l{k}</c> for every layer k.</param>
    /// <param name="inputSize">The input width of layer 0.</param>
    /// <param name="hiddenSize">The number of hidden units H per layer.</param>
    /// <param name="layerCount">The number of stacked layers.</param>
    /// <param name="activation">The nonlinearity.</param>
    /// <exception cref="InvalidDataException">A tensor is missing or misshaped; the message names it and the expected
    /// shape.</exception>
    public ElmanNetwork(StateDictionary weights, int inputSize, int hiddenSize, int layerCount = 1, ElmanActivation activation = ElmanActivation.Tanh)
        : base(inputSize, hiddenSize, layerCount, 1, ElmanLayer<T>.ScratchPerStream(hiddenSize))
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!Enum.IsDefined(activation))
        {
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown Elman activation.");
        }

        Activation = activation;
        layers = new ElmanLayer<T>[layerCount];
        for (var k = 0; k < layerCount; k++)
        {
            layers[k] = new ElmanLayer<T>(weights, k, k == 0 ? inputSize : hiddenSize, hiddenSize, activation);
        }
    }

    /// <summary>Gets the nonlinearity applied to every layer's pre-activation.</summary>
    public ElmanActivation Activation { get; }

    /// <inheritdoc/>
    public override RecurrentCellKind CellKind => RecurrentCellKind.Elman;

    private protected override void StepLayer(
        int layer, int batch, ReadOnlySpan<T> layerInput, int inputStride, Span<T> states, Span<T> scratch) =>
        layers[layer].Step(batch, layerInput, inputStride, states, StateLength, GetHiddenOffset(layer), scratch);
}
