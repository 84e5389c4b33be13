using System.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A linear read-out y = W h + b (PyTorch <c>nn.Linear</c>): the point output of a recurrent network.
/// </summary>
/// <typeparam name="T">The floating-point type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// W is <c>{prefix}.weight</c> (<see cref="OutputSize"/> × <see cref="InputSize"/>) and b is <c>{prefix}.bias</c>
/// (<see cref="OutputSize"/>); the prefix defaults to <c>head</c>.
/// </remarks>
public sealed class LinearHead<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] weights;
    private readonly T[] bias;

    /// <summary>Initializes a new instance of the <see cref="LinearHead{T}"/> class from PyTorch-named weights.</summary>
    /// <param name="weights">A dictionary holding <c>{prefix}.weight</c> and <c>{prefix}.bias</c>.</param>
    /// <param name="inputSize">The input width (the network's hidden size).</param>
    /// <param name="outputSize">The output width.</param>
    /// <param name="prefix">The module name in front of <c>.weight</c> and <c>.bias</c>.</param>
    /// <exception cref="InvalidDataException">A tensor is missing or misshaped; the message names it and the expected
    /// shape.</exception>
    public LinearHead(StateDictionary weights, int inputSize, int outputSize, string prefix = "head")
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        var w = weights.GetValues<T>(prefix + ".weight", outputSize, inputSize);
        bias = weights.GetValues<T>(prefix + ".bias", outputSize);
        this.weights = new T[inputSize * outputSize];
        for (var r = 0; r < outputSize; r++)
        {
            for (var k = 0; k < inputSize; k++)
            {
                this.weights[(k * outputSize) + r] = w[(r * inputSize) + k];
            }
        }

        InputSize = inputSize;
        OutputSize = outputSize;
    }

    /// <summary>Gets the input width.</summary>
    public int InputSize { get; }

    /// <summary>Gets the output width.</summary>
    public int OutputSize { get; }

    /// <summary>Computes y = W h + b for one input.</summary>
    /// <param name="input">h (<see cref="InputSize"/> values).</param>
    /// <param name="output">Receives y (<see cref="OutputSize"/> values).</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Evaluate(ReadOnlySpan<T> input, Span<T> output)
    {
        if (input.Length != InputSize)
        {
            throw new ArgumentException($"The input has {input.Length} values; the head expects {InputSize}.", nameof(input));
        }

        if (output.Length != OutputSize)
        {
            throw new ArgumentException($"The output has {output.Length} values; the head produces {OutputSize}.", nameof(output));
        }

        GemmKernel.Run<T>(1, input, InputSize, InputSize, default, 0, 0, weights, OutputSize, bias, output, OutputSize, OutputSize);
    }

    /// <summary>Computes y_b = W h_b + b for a batch of inputs, e.g. the top hidden vectors inside a batch of states.</summary>
    /// <param name="batchSize">The number of inputs B.</param>
    /// <param name="inputs">Input b starts at b·<paramref name="inputStride"/>.</param>
    /// <param name="inputStride">The distance between consecutive inputs (at least <see cref="InputSize"/>).</param>
    /// <param name="outputs">Receives B outputs back to back (B·<see cref="OutputSize"/> values).</param>
    /// <exception cref="ArgumentException">A span is too short or the stride too small.</exception>
    public void EvaluateBatch(int batchSize, ReadOnlySpan<T> inputs, int inputStride, Span<T> outputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputStride, InputSize);
        if (batchSize == 0)
        {
            return;
        }

        if (inputs.Length < ((long)(batchSize - 1) * inputStride) + InputSize)
        {
            throw new ArgumentException($"The inputs hold {inputs.Length} values, too few for {batchSize} rows of stride {inputStride}.", nameof(inputs));
        }

        if (outputs.Length != (long)batchSize * OutputSize)
        {
            throw new ArgumentException($"The outputs hold {outputs.Length} values; {batchSize} rows need {(long)batchSize * OutputSize}.", nameof(outputs));
        }

        GemmKernel.Run<T>(batchSize, inputs, inputStride, InputSize, default, 0, 0, weights, OutputSize, bias, outputs, OutputSize, OutputSize);
    }
}
