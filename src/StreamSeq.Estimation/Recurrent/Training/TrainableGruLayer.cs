namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>A GRU layer (PyTorch gate order r, z, n; r multiplies W_hn h + b_hn) with its backward step.</summary>
/// <remarks>
/// Forward: r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz), q = W_hn h + b_hn,
/// n = tanh(W_in x + b_in + r⊙q), h' = (1 − z)⊙n + z⊙h.
/// Backward: δn = δh⊙(1 − z)⊙(1 − n²); δz = δh⊙(h − n)⊙z(1 − z); δq = δn⊙r; δr = δn⊙q⊙r(1 − r);
/// input-side gradient [δr, δz, δn], hidden-side [δr, δz, δq]; δh_prev = δh⊙z + W_hhᵀ [δr, δz, δq].
/// </remarks>
internal sealed class TrainableGruLayer : TrainableLayer
{
    private readonly int weightInput;
    private readonly int weightHidden;
    private readonly int biasInput;
    private readonly int biasHidden;

    public TrainableGruLayer(ParameterSet parameters, int layer, int inputWidth, int hidden)
        : base(inputWidth, hidden, inputWidth + (5 * hidden))
    {
        var bound = 1.0 / Math.Sqrt(hidden);
        weightInput = parameters.Add($"weight_ih_l{layer}", bound, 3 * hidden, inputWidth);
        weightHidden = parameters.Add($"weight_hh_l{layer}", bound, 3 * hidden, hidden);
        biasInput = parameters.Add($"bias_ih_l{layer}", bound, 3 * hidden);
        biasHidden = parameters.Add($"bias_hh_l{layer}", bound, 3 * hidden);

        // Tape slot (sized in the base constructor): x, h_prev, r, z, n, q.
    }

    public override int StateWidth => Hidden;

    public override void Forward(ReadOnlySpan<double> theta, ReadOnlySpan<double> x, Span<double> state, int t)
    {
        var h = Hidden;
        var h3 = 3 * h;
        var hPrev = state[..h];
        Span<double> gi = stackalloc double[h3];
        Span<double> gh = stackalloc double[h3];
        theta.Slice(biasInput, h3).CopyTo(gi);
        theta.Slice(biasHidden, h3).CopyTo(gh);
        TrainMath.MultiplyAdd(theta.Slice(weightInput, h3 * InputWidth), h3, InputWidth, x, gi);
        TrainMath.MultiplyAdd(theta.Slice(weightHidden, h3 * h), h3, h, hPrev, gh);
        var record = TapeSlot(t);
        if (t >= 0)
        {
            x.CopyTo(record);
            hPrev.CopyTo(record.Slice(InputWidth, h));
        }

        for (var k = 0; k < h; k++)
        {
            var r = TrainMath.Sigmoid(gi[k] + gh[k]);
            var z = TrainMath.Sigmoid(gi[h + k] + gh[h + k]);
            var q = gh[(2 * h) + k];
            var n = Math.Tanh(gi[(2 * h) + k] + (r * q));
            if (t >= 0)
            {
                var o = InputWidth + h;
                record[o + k] = r;
                record[o + h + k] = z;
                record[o + (2 * h) + k] = n;
                record[o + (3 * h) + k] = q;
            }

            hPrev[k] = ((1.0 - z) * n) + (z * hPrev[k]);
        }
    }

    public override void Backward(ReadOnlySpan<double> theta, Span<double> gradient, int t, ReadOnlySpan<double> dh, Span<double> dc, Span<double> dx, Span<double> dhPrevious)
    {
        var h = Hidden;
        var h3 = 3 * h;
        ReadOnlySpan<double> record = TapeSlot(t);
        var x = record[..InputWidth];
        var hPrev = record.Slice(InputWidth, h);
        var o = InputWidth + h;
        Span<double> dgi = stackalloc double[h3];
        Span<double> dgh = stackalloc double[h3];
        dhPrevious.Clear();
        for (var k = 0; k < h; k++)
        {
            var r = record[o + k];
            var z = record[o + h + k];
            var n = record[o + (2 * h) + k];
            var q = record[o + (3 * h) + k];
            var dn = dh[k] * (1.0 - z) * (1.0 - (n * n));
            var dz = dh[k] * (hPrev[k] - n) * z * (1.0 - z);
            var dr = dn * q * r * (1.0 - r);
            dgi[k] = dr;
            dgi[h + k] = dz;
            dgi[(2 * h) + k] = dn;
            dgh[k] = dr;
            dgh[h + k] = dz;
            dgh[(2 * h) + k] = dn * r;
            dhPrevious[k] = dh[k] * z;
        }

        TrainMath.OuterAdd(gradient.Slice(weightInput, h3 * InputWidth), h3, InputWidth, dgi, x);
        TrainMath.OuterAdd(gradient.Slice(weightHidden, h3 * h), h3, h, dgh, hPrev);
        TrainMath.Add(dgi, gradient.Slice(biasInput, h3));
        TrainMath.Add(dgh, gradient.Slice(biasHidden, h3));
        dx.Clear();
        TrainMath.TransposedMultiplyAdd(theta.Slice(weightInput, h3 * InputWidth), h3, InputWidth, dgi, dx);
        TrainMath.TransposedMultiplyAdd(theta.Slice(weightHidden, h3 * h), h3, h, dgh, dhPrevious);
    }
}
