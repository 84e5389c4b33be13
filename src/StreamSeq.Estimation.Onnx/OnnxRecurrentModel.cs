using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace StreamSeq.Estimation.Onnx;

/// <summary>
/// Runs an exported recurrent graph model(x, h0[, c0]) → (y, hn[, cn]) with ONNX Runtime one time step at a time,
/// with the recurrent state carried in a caller-owned span between steps.
/// </summary>
/// <remarks>
/// <para>
/// The graph is what <c>torch.onnx.export</c> writes for an <c>nn.LSTM</c>/<c>nn.GRU</c> plus a linear head with
/// <c>batch_first=True</c>: x is [batch, seq, <see cref="InputSize"/>], h0/hn (and c0/cn) are
/// [<see cref="LayerCount"/>, batch, <see cref="HiddenSize"/>], and y is [batch, seq, <see cref="OutputSize"/>].
/// Each step runs the graph on a sequence of length 1.
/// </para>
/// <para>
/// State layout is the one of <c>StreamSeq.Estimation.Recurrent.RecurrentNetwork</c>: for each layer, h then (when
/// the graph has a cell state) c, so a stream's state can move between this backend and the managed engine.
/// </para>
/// <para>
/// Input and output tensors live in pinned arrays bound once to the session (an <see cref="OrtIoBinding"/> per batch
/// size), so a step copies values in and out and runs the graph without allocating managed buffers. An instance is
/// therefore not thread-safe: use one per thread.
/// </para>
/// </remarks>
public sealed class OnnxRecurrentModel : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions;
    private readonly OnnxRecurrentModelOptions options;
    private readonly BindingSet single;
    private BindingSet? batch;
    private bool disposed;

    /// <summary>Initializes a new instance of the <see cref="OnnxRecurrentModel"/> class from an ONNX file.</summary>
    /// <param name="modelPath">The path of the .onnx file.</param>
    /// <param name="options">Threading and tensor names; defaults when null.</param>
    /// <exception cref="InvalidDataException">The graph lacks an expected input or output, or its shapes do not fit;
    /// the message names the tensor.</exception>
    public OnnxRecurrentModel(string modelPath, OnnxRecurrentModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        this.options = options ?? new OnnxRecurrentModelOptions();
        using (var sessionOptions = new SessionOptions())
        {
            sessionOptions.IntraOpNumThreads = this.options.IntraOpThreads;
            sessionOptions.InterOpNumThreads = 1;
            sessionOptions.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
            sessionOptions.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
            session = new InferenceSession(modelPath, sessionOptions);
        }

        try
        {
            var inputs = session.InputMetadata;
            var outputs = session.OutputMetadata;
            InputSize = LastDimension(inputs, this.options.InputName, 3, modelPath);
            var h0 = Dimensions(inputs, this.options.InitialHiddenName, 3, modelPath);
            LayerCount = FixedDimension(h0[0], this.options.InitialHiddenName, 0, modelPath);
            HiddenSize = FixedDimension(h0[2], this.options.InitialHiddenName, 2, modelPath);
            HasCellState = inputs.ContainsKey(this.options.InitialCellName);
            if (HasCellState != outputs.ContainsKey(this.options.FinalCellName))
            {
                throw new InvalidDataException(
                    $"ONNX model '{modelPath}': has one of '{this.options.InitialCellName}' and '{this.options.FinalCellName}' without the other.");
            }

            _ = Dimensions(outputs, this.options.FinalHiddenName, 3, modelPath);
            OutputSize = outputs.ContainsKey(this.options.OutputName) ? LastDimension(outputs, this.options.OutputName, 3, modelPath) : 0;
            StateLength = LayerCount * HiddenSize * (HasCellState ? 2 : 1);
            runOptions = new RunOptions();
            single = new BindingSet(this, 1);
        }
        catch
        {
            session.Dispose();
            runOptions?.Dispose();
            throw;
        }
    }

    /// <summary>Gets the length of an input vector x_t.</summary>
    public int InputSize { get; }

    /// <summary>Gets the number of hidden units per layer.</summary>
    public int HiddenSize { get; }

    /// <summary>Gets the number of stacked recurrent layers.</summary>
    public int LayerCount { get; }

    /// <summary>Gets the length of the head output y_t (0 when the graph has no head output).</summary>
    public int OutputSize { get; }

    /// <summary>Gets a value indicating whether the graph carries a cell state (LSTM).</summary>
    public bool HasCellState { get; }

    /// <summary>Gets the length of one stream's state span.</summary>
    public int StateLength { get; }

    /// <summary>Returns the offset of layer <paramref name="layer"/>'s hidden vector within a state span.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The offset of the first of <see cref="HiddenSize"/> values.</returns>
    public int GetHiddenOffset(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, LayerCount);
        return layer * HiddenSize * (HasCellState ? 2 : 1);
    }

    /// <summary>Returns the offset of layer <paramref name="layer"/>'s cell vector within a state span.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The offset of the first of <see cref="HiddenSize"/> values.</returns>
    /// <exception cref="InvalidOperationException">The graph has no cell state.</exception>
    public int GetCellOffset(int layer) =>
        HasCellState ? GetHiddenOffset(layer) + HiddenSize : throw new InvalidOperationException("The graph has no cell state.");

    /// <summary>Advances one stream by one step: runs the graph on x_t with the stream's state and writes the new
    /// state and the head output.</summary>
    /// <param name="input">x_t (<see cref="InputSize"/> values).</param>
    /// <param name="state">The stream's state (<see cref="StateLength"/> values), updated in place.</param>
    /// <param name="output">Receives y_t (<see cref="OutputSize"/> values).</param>
    public void Step(ReadOnlySpan<float> input, Span<float> state, Span<float> output)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CheckLength(input.Length, InputSize, nameof(input));
        CheckLength(state.Length, StateLength, nameof(state));
        CheckLength(output.Length, OutputSize, nameof(output));
        single.Run(input, state, output);
    }

    /// <summary>Advances <paramref name="batchSize"/> streams by one step each in one graph run.</summary>
    /// <param name="batchSize">The number of streams B.</param>
    /// <param name="inputs">B inputs back to back.</param>
    /// <param name="states">B states back to back, updated in place.</param>
    /// <param name="outputs">Receives B head outputs back to back.</param>
    /// <remarks>Buffers are bound once per batch size; a change of batch size rebinds (and allocates) once.</remarks>
    public void StepBatch(int batchSize, ReadOnlySpan<float> inputs, Span<float> states, Span<float> outputs)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckLength(inputs.Length, (long)batchSize * InputSize, nameof(inputs));
        CheckLength(states.Length, (long)batchSize * StateLength, nameof(states));
        CheckLength(outputs.Length, (long)batchSize * OutputSize, nameof(outputs));
        if (batchSize == 1)
        {
            single.Run(inputs, states, outputs);
            return;
        }

        if (batch is null || batch.BatchSize != batchSize)
        {
            batch?.Dispose();
            batch = null;
            batch = new BindingSet(this, batchSize);
        }

        batch.Run(inputs, states, outputs);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        batch?.Dispose();
        single.Dispose();
        runOptions.Dispose();
        session.Dispose();
    }

    private static void CheckLength(long actual, long expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"'{name}' holds {actual} values; {expected} are needed."), name);
        }
    }

    private static int[] Dimensions(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, int rank, string path)
    {
        if (!metadata.TryGetValue(name, out var node))
        {
            throw new InvalidDataException($"ONNX model '{path}': has no tensor '{name}' (has {string.Join(", ", metadata.Keys)}).");
        }

        if (node.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float || node.Dimensions.Length != rank)
        {
            throw new InvalidDataException(
                $"ONNX model '{path}': tensor '{name}' must be a rank-{rank} float tensor (is {node.ElementDataType} of rank {node.Dimensions.Length}).");
        }

        return node.Dimensions;
    }

    private static int LastDimension(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, int rank, string path)
    {
        var dims = Dimensions(metadata, name, rank, path);
        return FixedDimension(dims[rank - 1], name, rank - 1, path);
    }

    private static int FixedDimension(int value, string name, int axis, string path) =>
        value > 0
            ? value
            : throw new InvalidDataException($"ONNX model '{path}': tensor '{name}' needs a fixed size on axis {axis}.");

    /// <summary>Pinned buffers and their binding for one batch size.</summary>
    private sealed class BindingSet : IDisposable
    {
        private readonly OnnxRecurrentModel owner;
        private readonly float[] x;
        private readonly float[] h0;
        private readonly float[] c0;
        private readonly float[] y;
        private readonly float[] hn;
        private readonly float[] cn;
        private readonly List<OrtValue> values = [];
        private readonly OrtIoBinding binding;

        public BindingSet(OnnxRecurrentModel owner, int batchSize)
        {
            this.owner = owner;
            BatchSize = batchSize;
            var o = owner.options;
            long layers = owner.LayerCount;
            x = new float[batchSize * owner.InputSize];
            h0 = new float[owner.LayerCount * batchSize * owner.HiddenSize];
            hn = new float[h0.Length];
            c0 = owner.HasCellState ? new float[h0.Length] : [];
            cn = owner.HasCellState ? new float[h0.Length] : [];
            y = new float[batchSize * owner.OutputSize];
            binding = owner.session.CreateIoBinding();
            try
            {
                binding.BindInput(o.InputName, Pin(x, [batchSize, 1, owner.InputSize]));
                binding.BindInput(o.InitialHiddenName, Pin(h0, [layers, batchSize, owner.HiddenSize]));
                binding.BindOutput(o.FinalHiddenName, Pin(hn, [layers, batchSize, owner.HiddenSize]));
                if (owner.HasCellState)
                {
                    binding.BindInput(o.InitialCellName, Pin(c0, [layers, batchSize, owner.HiddenSize]));
                    binding.BindOutput(o.FinalCellName, Pin(cn, [layers, batchSize, owner.HiddenSize]));
                }

                if (owner.OutputSize > 0)
                {
                    binding.BindOutput(o.OutputName, Pin(y, [batchSize, 1, owner.OutputSize]));
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int BatchSize { get; }

        public void Run(ReadOnlySpan<float> inputs, Span<float> states, Span<float> outputs)
        {
            var hidden = owner.HiddenSize;
            var stride = owner.StateLength;
            inputs.CopyTo(x);
            for (var l = 0; l < owner.LayerCount; l++)
            {
                var ho = owner.GetHiddenOffset(l);
                for (var b = 0; b < BatchSize; b++)
                {
                    var at = ((l * BatchSize) + b) * hidden;
                    states.Slice((b * stride) + ho, hidden).CopyTo(h0.AsSpan(at, hidden));
                    if (owner.HasCellState)
                    {
                        states.Slice((b * stride) + ho + hidden, hidden).CopyTo(c0.AsSpan(at, hidden));
                    }
                }
            }

            owner.session.RunWithBinding(owner.runOptions, binding);

            for (var l = 0; l < owner.LayerCount; l++)
            {
                var ho = owner.GetHiddenOffset(l);
                for (var b = 0; b < BatchSize; b++)
                {
                    var at = ((l * BatchSize) + b) * hidden;
                    hn.AsSpan(at, hidden).CopyTo(states.Slice((b * stride) + ho, hidden));
                    if (owner.HasCellState)
                    {
                        cn.AsSpan(at, hidden).CopyTo(states.Slice((b * stride) + ho + hidden, hidden));
                    }
                }
            }

            y.CopyTo(outputs);
        }

        public void Dispose()
        {
            binding.Dispose();
            foreach (var v in values)
            {
                v.Dispose();
            }
        }

        private OrtValue Pin(float[] buffer, long[] shape)
        {
            var value = OrtValue.CreateTensorValueFromMemory(buffer, shape);
            values.Add(value);
            return value;
        }
    }
}
