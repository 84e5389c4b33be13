namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>An LSTM layer (PyTorch gate order i, f, g, o), optionally with the diagonal peepholes of
/// <see cref="PeepholeLstmNetwork{T}"/>, with its backward step.</summary>
/// <remarks>
/// Forward: a = W_ih x + b_ih + W_hh h + b_hh; i = σ(a_i + p_i⊙c), f = σ(a_f + p_f⊙c), g = tanh(a_g),
/// c' = f⊙c + i⊙g, o = σ(a_o + p_o⊙c'), h' = o⊙tanh(c') (p = 0 without peepholes).
/// Backward: δo = δh⊙tanh(c')⊙o(1−o); δc' = δc_next + δh⊙o⊙(1−tanh²c') + p_o⊙δo;
/// δi = δc'⊙g⊙i(1−i); δf = δc'⊙c⊙f(1−f); δg = δc'⊙i⊙(1−g²); δc = δc'⊙f + p_i⊙δi + p_f⊙δf;
/// ∂W_ih += δa xᵀ, ∂W_hh += δa hᵀ, ∂b += δa, δx = W_ihᵀ δa, δh_prev = W_hhᵀ δa.
/// </remarks>
internal sealed class TrainableLstmLayer : TrainableLayer
{
    private readonly bool peephole;
    private readonly int weightInput;
    private readonly int weightHidden;
    private readonly int biasInput;
    private readonly int biasHidden;
    private readonly int peepholeInput;
    private readonly int peepholeForget;
    private readonly int peepholeOutput;

    public TrainableLstmLayer(ParameterSet parameters, int layer, int inputWidth, int hidden, bool peephole)
        : base(inputWidth, hidden, inputWidth + (8 * hidden))
    {
        this.peephole = peephole;
        var bound = 1.0 / Math.Sqrt(hidden);
        weightInput = parameters.Add($"weight_ih_l{layer}", bound, 4 * hidden, inputWidth);
        weightHidden = parameters.Add($"weight_hh_l{layer}", bound, 4 * hidden, hidden);
        biasInput = parameters.Add($"bias_ih_l{layer}", bound, 4 * hidden);
        biasHidden = parameters.Add($"bias_hh_l{layer}", bound, 4 * hidden);
        if (peephole)
        {
            peepholeInput = parameters.Add($"peephole_i_l{layer}", bound, hidden);
            peepholeForget = parameters.Add($"peephole_f_l{layer}", bound, hidden);
            peepholeOutput = parameters.Add($"peephole_o_l{layer}", bound, hidden);
        }

        // Tape slot (sized in the base constructor): x, h_prev, c_prev, gates (i, f, g, o after activation), c', tanh c'.
    }

    public override int StateWidth => 2 * Hidden;

    public override void Forward(ReadOnlySpan<double> theta, ReadOnlySpan<double> x, Span<double> state, int t)
    {
        var h = Hidden;
        var h4 = 4 * h;
        var hPrev = state[..h];
        var cPrev = state.Slice(h, h);
        Span<double> a = stackalloc double[h4];
        for (var r = 0; r < h4; r++)
        {
            a[r] = theta[biasInput + r] + theta[biasHidden + r];
        }

        TrainMath.MultiplyAdd(theta.Slice(weightInput, h4 * InputWidth), h4, InputWidth, x, a);
        TrainMath.MultiplyAdd(theta.Slice(weightHidden, h4 * h), h4, h, hPrev, a);
        var record = TapeSlot(t);
        if (t >= 0)
        {
            x.CopyTo(record);
            hPrev.CopyTo(record.Slice(InputWidth, h));
            cPrev.CopyTo(record.Slice(InputWidth + h, h));
        }

        for (var k = 0; k < h; k++)
        {
            var c = cPrev[k];
            var ai = a[k];
            var af = a[h + k];
            if (peephole)
            {
                ai += theta[peepholeInput + k] * c;
                af += theta[peepholeForget + k] * c;
            }

            var i = TrainMath.Sigmoid(ai);
            var f = TrainMath.Sigmoid(af);
            var g = Math.Tanh(a[(2 * h) + k]);
            var cNew = (f * c) + (i * g);
            var ao = a[(3 * h) + k];
            if (peephole)
            {
                ao += theta[peepholeOutput + k] * cNew;
            }

            var o = TrainMath.Sigmoid(ao);
            var tc = Math.Tanh(cNew);
            a[k] = i;
            a[h + k] = f;
            a[(2 * h) + k] = g;
            a[(3 * h) + k] = o;
            cPrev[k] = cNew;
            hPrev[k] = o * tc;
            if (t >= 0)
            {
                record[InputWidth + (6 * h) + k] = cNew;
                record[InputWidth + (7 * h) + k] = tc;
            }
        }

        if (t >= 0)
        {
            a.CopyTo(record.Slice(InputWidth + (2 * h), h4));
        }
    }

    public override void Backward(ReadOnlySpan<double> theta, Span<double> gradient, int t, ReadOnlySpan<double> dh, Span<double> dc, Span<double> dx, Span<double> dhPrevious)
    {
        var h = Hidden;
        var h4 = 4 * h;
        ReadOnlySpan<double> record = TapeSlot(t);
        var x = record[..InputWidth];
        var hPrev = record.Slice(InputWidth, h);
        var cPrev = record.Slice(InputWidth + h, h);
        var gates = record.Slice(InputWidth + (2 * h), h4);
        var cNew = record.Slice(InputWidth + (6 * h), h);
        var tc = record.Slice(InputWidth + (7 * h), h);
        Span<double> da = stackalloc double[h4];
        for (var k = 0; k < h; k++)
        {
            var i = gates[k];
            var f = gates[h + k];
            var g = gates[(2 * h) + k];
            var o = gates[(3 * h) + k];
            var dao = dh[k] * tc[k] * o * (1.0 - o);
            var dcNew = dc[k] + (dh[k] * o * (1.0 - (tc[k] * tc[k])));
            if (peephole)
            {
                dcNew += theta[peepholeOutput + k] * dao;
                gradient[peepholeOutput + k] += dao * cNew[k];
            }

            var dai = dcNew * g * i * (1.0 - i);
            var daf = dcNew * cPrev[k] * f * (1.0 - f);
            var dag = dcNew * i * (1.0 - (g * g));
            var dcOld = dcNew * f;
            if (peephole)
            {
                dcOld += (theta[peepholeInput + k] * dai) + (theta[peepholeForget + k] * daf);
                gradient[peepholeInput + k] += dai * cPrev[k];
                gradient[peepholeForget + k] += daf * cPrev[k];
            }

            da[k] = dai;
            da[h + k] = daf;
            da[(2 * h) + k] = dag;
            da[(3 * h) + k] = dao;
            dc[k] = dcOld;
        }

        TrainMath.OuterAdd(gradient.Slice(weightInput, h4 * InputWidth), h4, InputWidth, da, x);
        TrainMath.OuterAdd(gradient.Slice(weightHidden, h4 * h), h4, h, da, hPrev);
        TrainMath.Add(da, gradient.Slice(biasInput, h4));
        TrainMath.Add(da, gradient.Slice(biasHidden, h4));
        dx.Clear();
        dhPrevious.Clear();
        TrainMath.TransposedMultiplyAdd(theta.Slice(weightInput, h4 * InputWidth), h4, InputWidth, da, dx);
        TrainMath.TransposedMultiplyAdd(theta.Slice(weightHidden, h4 * h), h4, h, da, dhPrevious);
    }
}
