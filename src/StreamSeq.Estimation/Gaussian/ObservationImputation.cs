using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The complete-data law of a partially observed y_t given h_t for linear Gaussian EM: with ỹ = y − d, observed
/// rows o and missing rows u, ỹ_u = (H_u − K H_o) h_t + K ỹ_o + η with K = R_uo R_oo⁻¹ and
/// η ~ N(0, R_uu − K R_ou), i.e. ỹ = L h_t + e + η with L_o = 0 and e_o = ỹ_o.
/// </summary>
/// <remarks>This is the selection-matrix form of the missing-data M-step: the missing rows are not dropped (which
/// would bias R), nor filled with their predictions alone (which would lose their variance).</remarks>
internal sealed class ObservationImputation
{
    private readonly int n;
    private readonly int m;
    private readonly double[] h;
    private readonly double[] r;
    private readonly double[] d;
    private readonly int[] observed;
    private readonly int[] missing;

    /// <summary>Creates the workspace for a model's H, R and d.</summary>
    public ObservationImputation(LinearGaussianModel model)
    {
        n = model.StateDimension;
        m = model.ObservationDimension;
        h = model.Observation.ToArray();
        r = model.ObservationNoise.ToArray();
        d = model.ObservationOffset.ToArray();
        observed = new int[m];
        missing = new int[m];
        Mean = new double[m];
        Loading = new double[m * n];
        Conditional = new double[m * m];
    }

    /// <summary>E[ỹ | h_t = x] = L x + e (m).</summary>
    public double[] Mean { get; }

    /// <summary>L (m×n): zero on observed rows.</summary>
    public double[] Loading { get; }

    /// <summary>Var[ỹ | h_t] (m×m): zero outside the missing rows and columns.</summary>
    public double[] Conditional { get; }

    /// <summary>Fills the law for observation <paramref name="y"/> (NaN = missing) at the state mean <paramref name="x"/>.</summary>
    public void Set(ReadOnlySpan<double> y, ReadOnlySpan<double> x)
    {
        int k = 0, u = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[k++] = i;
            }
            else
            {
                missing[u++] = i;
            }
        }

        Array.Clear(Loading);
        Array.Clear(Conditional);
        for (var a = 0; a < k; a++)
        {
            var i = observed[a];
            Mean[i] = y[i] - d[i];
        }

        if (u == 0)
        {
            return;
        }

        // gain = R_oo⁻¹ R_ou (k×u), so K = gain'.
        var gain = new double[k * u];
        if (k > 0)
        {
            var roo = new double[k * k];
            for (var a = 0; a < k; a++)
            {
                for (var b = 0; b < k; b++)
                {
                    roo[(a * k) + b] = r[(observed[a] * m) + observed[b]];
                }

                for (var b = 0; b < u; b++)
                {
                    gain[(a * u) + b] = r[(observed[a] * m) + missing[b]];
                }
            }

            var l = (double[])roo.Clone();
            if (Dense.Cholesky(l, k))
            {
                Dense.CholeskySolve(l, k, gain, u);
            }
            else if (!Dense.Solve(roo, k, gain, u))
            {
                // A singular R_oo carries no usable correlation: treat the missing rows as independent.
                Array.Clear(gain);
            }
        }

        for (var b = 0; b < u; b++)
        {
            var i = missing[b];
            var mean = 0.0;
            for (var c = 0; c < n; c++)
            {
                var l = h[(i * n) + c];
                for (var a = 0; a < k; a++)
                {
                    l -= gain[(a * u) + b] * h[(observed[a] * n) + c];
                }

                Loading[(i * n) + c] = l;
                mean += l * x[c];
            }

            for (var a = 0; a < k; a++)
            {
                mean += gain[(a * u) + b] * Mean[observed[a]];
            }

            Mean[i] = mean;
            for (var b2 = 0; b2 < u; b2++)
            {
                var j = missing[b2];
                var v = r[(i * m) + j];
                for (var a = 0; a < k; a++)
                {
                    v -= gain[(a * u) + b] * r[(observed[a] * m) + j];
                }

                Conditional[(i * m) + j] = v;
            }
        }

        Dense.Symmetrize(Conditional, m);
    }
}
