namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>
/// A recurrent network and its linear head in double precision with analytic gradients: the forward pass is the
/// <see cref="RecurrentEstimator"/>'s (same input layout, same missing-input rule), the backward pass is truncated
/// back-propagation through time over one chunk.
/// </summary>
/// <remarks>An input fed back for a missing observation (the predicted mean of the step before) is differentiated
/// through: its gradient flows into that step's head output, so the gradient is exact for the chunk. The chunk's
/// initial state and initial input are constants (the truncation). One instance per training thread: it owns its
/// tape.</remarks>
internal sealed class TrainableNetwork
{
    private readonly TrainableLayer[] layers;
    private readonly int[] stateOffsets;
    private readonly int headWeight;
    private readonly int headBias;
    private readonly double[] pointVariance;
    private double[] headInputs = [];
    private double[] outputGradients = [];
    private bool[] fedBack = [];
    private double[] scratchState = [];

    public TrainableNetwork(RecurrentNetworkShape shape, RecurrentLayout layout, string headPrefix = "head")
    {
        Shape = shape;
        Layout = layout;
        Parameters = new ParameterSet();
        layers = new TrainableLayer[shape.Layers];
        stateOffsets = new int[shape.Layers];
        var offset = 0;
        for (var l = 0; l < shape.Layers; l++)
        {
            var width = l == 0 ? shape.InputSize : shape.HiddenSize;
            layers[l] = shape.Cell switch
            {
                RecurrentCellKind.Lstm => new TrainableLstmLayer(Parameters, l, width, shape.HiddenSize, peephole: false),
                RecurrentCellKind.PeepholeLstm => new TrainableLstmLayer(Parameters, l, width, shape.HiddenSize, peephole: true),
                RecurrentCellKind.Gru => new TrainableGruLayer(Parameters, l, width, shape.HiddenSize),
                _ => new TrainableElmanLayer(Parameters, l, width, shape.HiddenSize, shape.Activation),
            };
            stateOffsets[l] = offset;
            offset += layers[l].StateWidth;
        }

        StateSize = offset;
        OutputSize = layout.HeadOutputSize;
        var bound = 1.0 / Math.Sqrt(shape.HiddenSize);
        headWeight = Parameters.Add($"{headPrefix}.weight", bound, OutputSize, shape.HiddenSize);
        headBias = Parameters.Add($"{headPrefix}.bias", bound, OutputSize);
        pointVariance = new double[layout.ObservationDimension];
        if (layout.Head == RecurrentHeadType.Point)
        {
            for (var j = 0; j < pointVariance.Length; j++)
            {
                var scale = layout.ObservationScale[j];
                pointVariance[j] = layout.PointVariance[j] / (scale * scale);
            }
        }
    }

    public RecurrentNetworkShape Shape { get; }

    public RecurrentLayout Layout { get; }

    public ParameterSet Parameters { get; }

    /// <summary>Logical state length (the network's layout).</summary>
    public int StateSize { get; }

    public int OutputSize { get; }

    /// <summary>One forward step from input x: advances the state in place and writes the raw head output; records
    /// slot <paramref name="t"/> of the tape when t ≥ 0.</summary>
    public void Step(ReadOnlySpan<double> theta, ReadOnlySpan<double> x, Span<double> state, Span<double> raw, int t)
    {
        var input = x;
        for (var l = 0; l < layers.Length; l++)
        {
            var slice = state.Slice(stateOffsets[l], layers[l].StateWidth);
            layers[l].Forward(theta, input, slice, t);
            input = slice[..Shape.HiddenSize];
        }

        var h = Shape.HiddenSize;
        theta.Slice(headBias, OutputSize).CopyTo(raw);
        TrainMath.MultiplyAdd(theta.Slice(headWeight, OutputSize * h), OutputSize, h, input, raw);
        if (t >= 0)
        {
            input.CopyTo(headInputs.AsSpan(t * h, h));
        }
    }

    /// <summary>
    /// Runs a chunk of a sequence from a given state and previous (normalised, completed) observation, returns the
    /// summed normalised negative log-likelihood over the steps that give a training signal, and, when
    /// <paramref name="gradient"/> is not empty, adds its gradient with respect to θ.
    /// </summary>
    public double Chunk(ReadOnlySpan<double> theta, TrainingSequence sequence, int start, int length, ReadOnlySpan<double> initialState, ReadOnlySpan<double> initialPrevious, Span<double> gradient, out int counted)
    {
        var m = Layout.ObservationDimension;
        var c = Layout.ControlDimension;
        var h = Shape.HiddenSize;
        EnsureCapacity(length);
        var state = scratchState.AsSpan(0, StateSize);
        initialState.CopyTo(state);
        Span<double> x = stackalloc double[m + c];
        Span<double> raw = stackalloc double[OutputSize];
        initialPrevious.CopyTo(x);
        fedBack.AsSpan(0, m).Clear();
        var loss = 0.0;
        counted = 0;
        for (var t = 0; t < length; t++)
        {
            var index = start + t;
            if (c > 0)
            {
                sequence.Controls.AsSpan(index * c, c).CopyTo(x[m..]);
            }

            Step(theta, x, state, raw, t);
            var target = sequence.Values.AsSpan(index * m, m);
            var du = outputGradients.AsSpan(t * OutputSize, OutputSize);
            if (HeadLoss.Evaluate(Layout, pointVariance, raw, target, du, out var l))
            {
                loss += l;
                counted++;
            }

            for (var j = 0; j < m; j++)
            {
                var missing = double.IsNaN(target[j]);
                x[j] = missing ? raw[j] : target[j];
                if (t + 1 < length)
                {
                    fedBack[((t + 1) * m) + j] = missing;
                }
            }
        }

        if (gradient.IsEmpty || counted == 0)
        {
            return loss;
        }

        var layerCount = layers.Length;
        Span<double> dhNext = stackalloc double[layerCount * h];
        Span<double> dcNext = stackalloc double[layerCount * h];
        Span<double> dh = stackalloc double[h];
        Span<double> dhPrevious = stackalloc double[h];
        Span<double> dx = stackalloc double[Math.Max(Shape.InputSize, h)];
        Span<double> dxAbove = stackalloc double[h];
        dhNext.Clear();
        dcNext.Clear();
        for (var t = length - 1; t >= 0; t--)
        {
            var du = outputGradients.AsSpan(t * OutputSize, OutputSize);
            var hTop = headInputs.AsSpan(t * h, h);
            TrainMath.OuterAdd(gradient.Slice(headWeight, OutputSize * h), OutputSize, h, du, hTop);
            TrainMath.Add(du, gradient.Slice(headBias, OutputSize));
            dxAbove.Clear();
            TrainMath.TransposedMultiplyAdd(theta.Slice(headWeight, OutputSize * h), OutputSize, h, du, dxAbove);
            for (var l = layerCount - 1; l >= 0; l--)
            {
                var next = dhNext.Slice(l * h, h);
                for (var k = 0; k < h; k++)
                {
                    dh[k] = dxAbove[k] + next[k];
                }

                var width = layers[l].InputWidth;
                layers[l].Backward(theta, gradient, t, dh, dcNext.Slice(l * h, h), dx[..width], dhPrevious);
                dhPrevious.CopyTo(next);
                if (l > 0)
                {
                    dx[..h].CopyTo(dxAbove);
                }
                else if (t > 0)
                {
                    // Inputs that were the previous step's predicted mean pass their gradient to its head output.
                    var before = outputGradients.AsSpan((t - 1) * OutputSize, OutputSize);
                    for (var j = 0; j < m; j++)
                    {
                        if (fedBack[(t * m) + j])
                        {
                            before[j] += dx[j];
                        }
                    }
                }
            }
        }

        return loss;
    }

    private void EnsureCapacity(int steps)
    {
        foreach (var layer in layers)
        {
            layer.EnsureCapacity(steps);
        }

        if (headInputs.Length < steps * Shape.HiddenSize)
        {
            headInputs = new double[steps * Shape.HiddenSize];
            outputGradients = new double[steps * OutputSize];
            fedBack = new bool[steps * Layout.ObservationDimension];
        }

        if (scratchState.Length < StateSize)
        {
            scratchState = new double[StateSize];
        }
    }
}
