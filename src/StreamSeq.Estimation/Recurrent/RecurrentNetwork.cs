using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A stack of recurrent layers with immutable, validated weights, shared by every stream of a model. Each stream's
/// state is a caller-owned span of <see cref="StateLength"/> values that <see cref="Step"/> advances in place.
/// </summary>
/// <typeparam name="T">The floating-point type of weights and states (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <para>
/// State layout: for each layer l = 0 .. <see cref="LayerCount"/> − 1 in turn, the hidden vector h_l
/// (<see cref="HiddenSize"/> values), then for LSTM cells the cell vector c_l. <see cref="GetHiddenOffset"/> and
/// <see cref="GetCellOffset"/> give the positions. An all-zero state is PyTorch's default initial state. Layer k &gt; 0
/// reads layer k − 1's new h as its input; the top layer's h is the network output.
/// </para>
/// <para>
/// Batches: <see cref="StepBatch"/> advances B streams whose states lie back to back (stream b's state at
/// b·<see cref="StateLength"/>) and whose inputs lie back to back (b·<see cref="InputSize"/>). Each gate block is then
/// one matrix-matrix product [x_b, h_b] · W over the whole batch. A batched step gives exactly the values of B
/// single-stream steps.
/// </para>
/// <para>Both kinds of step are thread-safe (the network is immutable) and allocate nothing in steady state.</para>
/// </remarks>
public abstract class RecurrentNetwork<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int StackScratchLimit = 2048;

    private protected RecurrentNetwork(int inputSize, int hiddenSize, int layerCount, int vectorsPerLayer, int scratchPerStream)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"Recurrent networks support float and double, not {typeof(T).Name}.");
        }

        InputSize = inputSize;
        HiddenSize = hiddenSize;
        LayerCount = layerCount;
        VectorsPerLayer = vectorsPerLayer;
        StateLength = layerCount * vectorsPerLayer * hiddenSize;
        ScratchPerStream = scratchPerStream;
    }

    /// <summary>Gets the cell type of every layer.</summary>
    public abstract RecurrentCellKind CellKind { get; }

    /// <summary>Gets the length of an input vector x_t.</summary>
    public int InputSize { get; }

    /// <summary>Gets the number of hidden units per layer (H).</summary>
    public int HiddenSize { get; }

    /// <summary>Gets the number of stacked layers.</summary>
    public int LayerCount { get; }

    /// <summary>Gets the length of one stream's state span (h and, for LSTMs, c of every layer).</summary>
    public int StateLength { get; }

    private protected int VectorsPerLayer { get; }

    private protected int ScratchPerStream { get; }

    /// <summary>Returns the offset of layer <paramref name="layer"/>'s hidden vector h within a state span.</summary>
    /// <param name="layer">The layer index, 0 = closest to the input.</param>
    /// <returns>The offset of the first of <see cref="HiddenSize"/> values.</returns>
    public int GetHiddenOffset(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, LayerCount);
        return layer * VectorsPerLayer * HiddenSize;
    }

    /// <summary>Returns the offset of layer <paramref name="layer"/>'s cell vector c within a state span.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The offset of the first of <see cref="HiddenSize"/> values.</returns>
    /// <exception cref="InvalidOperationException">The cell has no c vector (GRU, Elman).</exception>
    public int GetCellOffset(int layer)
    {
        if (VectorsPerLayer < 2)
        {
            throw new InvalidOperationException($"A {CellKind} network has no cell vector c.");
        }

        return GetHiddenOffset(layer) + HiddenSize;
    }

    /// <summary>Returns the top layer's hidden vector (the network output) within a state span.</summary>
    /// <param name="state">One stream's state.</param>
    /// <returns>A view of <see cref="HiddenSize"/> values.</returns>
    public ReadOnlySpan<T> GetOutput(ReadOnlySpan<T> state) => state.Slice(GetHiddenOffset(LayerCount - 1), HiddenSize);

    /// <summary>Advances one stream by one time step, in place.</summary>
    /// <param name="input">The input x_t (<see cref="InputSize"/> values).</param>
    /// <param name="state">The stream's state (<see cref="StateLength"/> values): h_{t-1}, c_{t-1} in, h_t, c_t out.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    [SkipLocalsInit]
    public void Step(ReadOnlySpan<T> input, Span<T> state)
    {
        if (input.Length != InputSize)
        {
            throw new ArgumentException($"The input has {input.Length} values; the network expects {InputSize}.", nameof(input));
        }

        if (state.Length != StateLength)
        {
            throw new ArgumentException($"The state has {state.Length} values; the network expects {StateLength}.", nameof(state));
        }

        if (ScratchPerStream <= StackScratchLimit)
        {
            Span<T> scratch = stackalloc T[ScratchPerStream];
            StepCore(1, input, state, scratch);
        }
        else
        {
            var rented = ArrayPool<T>.Shared.Rent(ScratchPerStream);
            try
            {
                StepCore(1, input, state, rented);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Advances <paramref name="batchSize"/> streams by one time step each, in place.</summary>
    /// <param name="batchSize">The number of streams B.</param>
    /// <param name="inputs">B inputs back to back (B·<see cref="InputSize"/> values).</param>
    /// <param name="states">B states back to back (B·<see cref="StateLength"/> values).</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void StepBatch(int batchSize, ReadOnlySpan<T> inputs, Span<T> states)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        if (inputs.Length != (long)batchSize * InputSize)
        {
            throw new ArgumentException(
                $"The inputs hold {inputs.Length} values; {batchSize} streams need {(long)batchSize * InputSize}.", nameof(inputs));
        }

        if (states.Length != (long)batchSize * StateLength)
        {
            throw new ArgumentException(
                $"The states hold {states.Length} values; {batchSize} streams need {(long)batchSize * StateLength}.", nameof(states));
        }

        if (batchSize == 0)
        {
            return;
        }

        var rented = ArrayPool<T>.Shared.Rent(checked(batchSize * ScratchPerStream));
        try
        {
            StepCore(batchSize, inputs, states, rented);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>Advances all streams of a batch through one layer. The layer input is row-major with row stride
    /// <paramref name="inputStride"/>; states are back to back.</summary>
    private protected abstract void StepLayer(
        int layer, int batch, ReadOnlySpan<T> layerInput, int inputStride, Span<T> states, Span<T> scratch);

    private void StepCore(int batch, ReadOnlySpan<T> inputs, Span<T> states, Span<T> scratch)
    {
        StepLayer(0, batch, inputs, InputSize, states, scratch);
        for (var layer = 1; layer < LayerCount; layer++)
        {
            StepLayer(layer, batch, states[GetHiddenOffset(layer - 1)..], StateLength, states, scratch);
        }
    }
}
