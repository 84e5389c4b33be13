using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// The managed engine as an <see cref="IRecurrentBackend"/>: a <see cref="RecurrentNetwork{T}"/> and the
/// <see cref="LinearHead{T}"/> on its top hidden vector, in single or double precision.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>In single precision the state is stored as floats packed two to a double, inputs are rounded to float
/// and head outputs widened to double; in double precision the storage is the state itself.</remarks>
public sealed class NetworkBackend<T> : IRecurrentBackend
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int StackLimit = 4096;

    /// <summary>Creates the backend.</summary>
    /// <param name="network">The recurrent layers.</param>
    /// <param name="head">The read-out on the top hidden vector (its input size must be the hidden size).</param>
    public NetworkBackend(RecurrentNetwork<T> network, LinearHead<T> head)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(head);
        if (head.InputSize != network.HiddenSize)
        {
            throw new ArgumentException($"The head reads {head.InputSize} values but the network's hidden size is {network.HiddenSize}.", nameof(head));
        }

        Network = network;
        Head = head;
        StorageLength = ((network.StateLength * Unsafe.SizeOf<T>()) + sizeof(double) - 1) / sizeof(double);
        Name = network.CellKind switch
        {
            RecurrentCellKind.Lstm => "lstm",
            RecurrentCellKind.PeepholeLstm => "peephole-lstm",
            RecurrentCellKind.Gru => "gru",
            _ => "elman",
        };
    }

    /// <summary>The recurrent layers.</summary>
    public RecurrentNetwork<T> Network { get; }

    /// <summary>The read-out.</summary>
    public LinearHead<T> Head { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int InputSize => Network.InputSize;

    /// <inheritdoc />
    public int StateSize => Network.StateLength;

    /// <inheritdoc />
    public int OutputHiddenOffset => Network.GetHiddenOffset(Network.LayerCount - 1);

    /// <inheritdoc />
    public int OutputHiddenSize => Network.HiddenSize;

    /// <inheritdoc />
    public int OutputSize => Head.OutputSize;

    /// <inheritdoc />
    public int StorageLength { get; }

    /// <inheritdoc />
    [SkipLocalsInit]
    public void Step(ReadOnlySpan<double> input, Span<double> storage, Span<double> output)
    {
        var state = Values(storage);
        if (typeof(T) == typeof(double))
        {
            Network.Step(MemoryMarshal.Cast<double, T>(input), state);
            Head.Evaluate(Network.GetOutput(state), MemoryMarshal.Cast<double, T>(output));
            return;
        }

        var inputSize = Network.InputSize;
        var outputSize = Head.OutputSize;
        var x = inputSize <= StackLimit ? stackalloc T[inputSize] : new T[inputSize];
        for (var i = 0; i < inputSize; i++)
        {
            x[i] = T.CreateTruncating(input[i]);
        }

        Network.Step(x, state);
        var y = outputSize <= StackLimit ? stackalloc T[outputSize] : new T[outputSize];
        Head.Evaluate(Network.GetOutput(state), y);
        for (var i = 0; i < outputSize; i++)
        {
            output[i] = double.CreateTruncating(y[i]);
        }
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> storage, Span<double> state)
    {
        var values = MemoryMarshal.Cast<double, T>(storage)[..Network.StateLength];
        for (var i = 0; i < values.Length; i++)
        {
            state[i] = double.CreateTruncating(values[i]);
        }
    }

    /// <inheritdoc />
    public void WriteState(ReadOnlySpan<double> state, Span<double> storage)
    {
        var values = Values(storage);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = T.CreateTruncating(state[i]);
        }
    }

    private Span<T> Values(Span<double> storage) => MemoryMarshal.Cast<double, T>(storage)[..Network.StateLength];
}
