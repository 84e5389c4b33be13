namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>An Elman layer h' = act(W_ih x + b_ih + W_hh h + b_hh) (tanh or ReLU) with its backward step:
/// δa = δh⊙act'(a), ∂W_ih += δa xᵀ, ∂W_hh += δa hᵀ, δx = W_ihᵀ δa, δh_prev = W_hhᵀ δa.</summary>
internal sealed class TrainableElmanLayer : TrainableLayer
{
    private readonly bool relu;
    private readonly int weightInput;
    private readonly int weightHidden;
    private readonly int biasInput;
    private readonly int biasHidden;
    private readonly int slot;
    private double[] tape = [];

    public TrainableElmanLayer(ParameterSet parameters, int layer, int inputWidth, int hidden, ElmanActivation activation)
        : base(inputWidth, hidden)
    {
        relu = activation == ElmanActivation.Relu;
        var bound = 1.0 / Math.Sqrt(hidden);
        weightInput = parameters.Add($"weight_ih_l{layer}", bound, hidden, inputWidth);
        weightHidden = parameters.Add($"weight_hh_l{layer}", bound, hidden, hidden);
        biasInput = parameters.Add($"bias_ih_l{layer}", bound, hidden);
        biasHidden = parameters.Add($"bias_hh_l{layer}", bound, hidden);

        // Tape slot: x, h_prev, h'.
        slot = inputWidth + (2 * hidden);
    }

    public override int StateWidth => Hidden;

    public override void EnsureCapacity(int steps)
    {
        if (tape.Length < steps * slot)
        {
            tape = new double[steps * slot];
        }
    }

    public override void Forward(ReadOnlySpan<double> theta, ReadOnlySpan<double> x, Span<double> state, int t)
    {
        var h = Hidden;
        var hPrev = state[..h];
        Span<double> a = stackalloc double[h];
        for (var r = 0; r < h; r++)
        {
            a[r] = theta[biasInput + r] + theta[biasHidden + r];
        }

        TrainMath.MultiplyAdd(theta.Slice(weightInput, h * InputWidth), h, InputWidth, x, a);
        TrainMath.MultiplyAdd(theta.Slice(weightHidden, h * h), h, h, hPrev, a);
        var record = t >= 0 ? tape.AsSpan(t * slot, slot) : default;
        if (t >= 0)
        {
            x.CopyTo(record);
            hPrev.CopyTo(record.Slice(InputWidth, h));
        }

        for (var k = 0; k < h; k++)
        {
            hPrev[k] = relu ? Math.Max(a[k], 0.0) : Math.Tanh(a[k]);
        }

        if (t >= 0)
        {
            hPrev.CopyTo(record.Slice(InputWidth + h, h));
        }
    }

    public override void Backward(ReadOnlySpan<double> theta, Span<double> gradient, int t, ReadOnlySpan<double> dh, Span<double> dc, Span<double> dx, Span<double> dhPrevious)
    {
        var h = Hidden;
        ReadOnlySpan<double> record = tape.AsSpan(t * slot, slot);
        var x = record[..InputWidth];
        var hPrev = record.Slice(InputWidth, h);
        var hNew = record.Slice(InputWidth + h, h);
        Span<double> da = stackalloc double[h];
        for (var k = 0; k < h; k++)
        {
            da[k] = dh[k] * (relu ? (hNew[k] > 0.0 ? 1.0 : 0.0) : 1.0 - (hNew[k] * hNew[k]));
        }

        TrainMath.OuterAdd(gradient.Slice(weightInput, h * InputWidth), h, InputWidth, da, x);
        TrainMath.OuterAdd(gradient.Slice(weightHidden, h * h), h, h, da, hPrev);
        TrainMath.Add(da, gradient.Slice(biasInput, h));
        TrainMath.Add(da, gradient.Slice(biasHidden, h));
        dx.Clear();
        dhPrevious.Clear();
        TrainMath.TransposedMultiplyAdd(theta.Slice(weightInput, h * InputWidth), h, InputWidth, da, dx);
        TrainMath.TransposedMultiplyAdd(theta.Slice(weightHidden, h * h), h, h, da, dhPrevious);
    }
}
