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

    public TrainableElmanLayer(ParameterSet parameters, int layer, int inputWidth, int hidden, ElmanActivation activation)
        : base(inputWidth, hidden, inputWidth + (2 * hidden))
    {
        relu = activation == ElmanActivation.Relu;
        var bound = 1.0 / Math.Sqrt(hidden);
        weightInput = parameters.Add($"weight_ih_l{layer}", bound, hidden, inputWidth);
        weightHidden = parameters.Add($"weight_hh_l{layer}", bound, hidden, hidden);
        biasInput = parameters.Add($"bias_ih_l{layer}", bound, hidden);
        biasHidden = parameters.Add($"bias_hh_l{layer}", bound, hidden);

        // Tape slot (sized in the base constructor): x, h_prev, h'.
    }

    public override int StateWidth => Hidden;

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
        var record = TapeSlot(t);
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
        ReadOnlySpan<double> record = TapeSlot(t);
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
