using System.Runtime.InteropServices;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Onnx;

/// <summary>
/// An exported recurrent graph run by ONNX Runtime as an <see cref="IRecurrentBackend"/>, so
/// <see cref="RecurrentEstimator"/> can use it like the managed engine.
/// </summary>
/// <remarks>
/// <see cref="OnnxRecurrentModel"/> owns bound input and output buffers and is not thread-safe, so the backend keeps
/// one per calling thread (each with its own session, created on the thread's first step). The state is stored as
/// floats packed two to a double, in the managed engine's layout. The sessions live as long as the backend; dispose
/// it to release them.
/// </remarks>
public sealed class OnnxRecurrentBackend : IRecurrentBackend, IDisposable
{
    private const int StackLimit = 4096;
    private readonly ThreadLocal<OnnxRecurrentModel> models;

    /// <summary>Opens the graph (once, to read its shapes) and prepares per-thread sessions.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="options">Tensor names and threading.</param>
    /// <exception cref="InvalidDataException">The graph lacks a tensor or has unusable shapes (the message names it).</exception>
    public OnnxRecurrentBackend(string modelPath, OnnxRecurrentModelOptions? options = null)
    {
        var probe = new OnnxRecurrentModel(modelPath, options);
        if (probe.OutputSize == 0)
        {
            var name = (options ?? new OnnxRecurrentModelOptions()).OutputName;
            probe.Dispose();
            throw new InvalidDataException($"ONNX model '{modelPath}': has no head output '{name}'; the estimator needs the head's prediction each step.");
        }

        models = new ThreadLocal<OnnxRecurrentModel>(() => new OnnxRecurrentModel(modelPath, options), trackAllValues: true);
        models.Value = probe;
        Name = probe.HasCellState ? "onnx-lstm" : "onnx-recurrent";
        InputSize = probe.InputSize;
        StateSize = probe.StateLength;
        OutputHiddenOffset = probe.GetHiddenOffset(probe.LayerCount - 1);
        OutputHiddenSize = probe.HiddenSize;
        OutputSize = probe.OutputSize;
        StorageLength = (StateSize + 1) / 2;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int InputSize { get; }

    /// <inheritdoc />
    public int StateSize { get; }

    /// <inheritdoc />
    public int OutputHiddenOffset { get; }

    /// <inheritdoc />
    public int OutputHiddenSize { get; }

    /// <inheritdoc />
    public int OutputSize { get; }

    /// <inheritdoc />
    public int StorageLength { get; }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<double> input, Span<double> storage, Span<double> output)
    {
        var x = InputSize <= StackLimit ? stackalloc float[InputSize] : new float[InputSize];
        var y = OutputSize <= StackLimit ? stackalloc float[OutputSize] : new float[OutputSize];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)input[i];
        }

        models.Value!.Step(x, Values(storage), y);
        for (var i = 0; i < y.Length; i++)
        {
            output[i] = y[i];
        }
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> storage, Span<double> state)
    {
        var values = MemoryMarshal.Cast<double, float>(storage)[..StateSize];
        for (var i = 0; i < values.Length; i++)
        {
            state[i] = values[i];
        }
    }

    /// <inheritdoc />
    public void WriteState(ReadOnlySpan<double> state, Span<double> storage)
    {
        var values = Values(storage);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)state[i];
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var model in models.Values)
        {
            model.Dispose();
        }

        models.Dispose();
    }

    private Span<float> Values(Span<double> storage) => MemoryMarshal.Cast<double, float>(storage)[..StateSize];
}
