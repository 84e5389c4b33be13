using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// A <see cref="LinearGaussianModel"/> seen as a nonlinear one: f(x) = F(Δt) x + c(Δt) + B u, F as its Jacobian,
/// Q(Δt); h(x) = H x + d, H as its Jacobian; R.
/// </summary>
/// <remarks>Gap-dependent dynamics are discretised once per gap and thread and cached, because the unscented filter
/// evaluates f at 2n+1 points with the same gap.</remarks>
internal sealed class LinearModelAdapter
{
    [ThreadStatic]
    private static Discretization? cache;

    private readonly LinearGaussianModel linear;
    private readonly int n;
    private readonly int m;
    private readonly double[]? transition;
    private readonly double[]? noise;
    private readonly double[]? offset;

    public LinearModelAdapter(LinearGaussianModel linear)
    {
        this.linear = linear;
        n = linear.StateDimension;
        m = linear.ObservationDimension;
        if (linear.Dynamics.IsTimeInvariant)
        {
            transition = new double[n * n];
            noise = new double[n * n];
            offset = new double[n];
            linear.Dynamics.Discretize(1.0, transition, noise, offset);
        }
    }

    public static NonlinearGaussianModel Create(LinearGaussianModel linear, bool priorAtTimeZero)
    {
        ArgumentNullException.ThrowIfNull(linear);
        if (linear.IsDiffuse)
        {
            throw new ModelValidationException(
                "initialization",
                "exact diffuse initialisation is only available in the linear-gaussian kind; give initialMean and initialCovariance.");
        }

        var adapter = new LinearModelAdapter(linear);
        return new NonlinearGaussianModel(
            linear.StateDimension,
            linear.ObservationDimension,
            adapter.Transition,
            adapter.TransitionNoise,
            adapter.Observation,
            linear.ObservationNoise,
            linear.InitialMean,
            linear.InitialCovariance,
            adapter.TransitionJacobian,
            adapter.ObservationJacobian,
            linear.ControlDimension,
            !linear.Dynamics.IsTimeInvariant,
            priorAtTimeZero);
    }

    public void Transition(ReadOnlySpan<double> state, TransitionContext context, Span<double> next)
    {
        var (f, _, c) = Matrices(context.TimeGap);
        var x = state[..n];
        var y = next[..n];
        for (var i = 0; i < y.Length; i++)
        {
            var row = f.AsSpan(i * n, x.Length);
            var s = 0.0;
            for (var j = 0; j < row.Length; j++)
            {
                s += row[j] * x[j];
            }

            y[i] = s + c[i];
        }

        var u = linear.ControlDimension;
        if (u > 0 && !context.Control.IsEmpty)
        {
            var b = linear.Control;
            for (var i = 0; i < n; i++)
            {
                var s = 0.0;
                for (var j = 0; j < u; j++)
                {
                    var uj = context.Control[j];
                    if (double.IsFinite(uj))
                    {
                        s += b[(i * u) + j] * uj;
                    }
                }

                y[i] += s;
            }
        }
    }

    public void TransitionJacobian(ReadOnlySpan<double> state, TransitionContext context, Span<double> jacobian) =>
        Matrices(context.TimeGap).F.AsSpan(0, n * n).CopyTo(jacobian);

    public void TransitionNoise(double timeGap, Span<double> covariance) => Matrices(timeGap).Q.AsSpan(0, n * n).CopyTo(covariance);

    public void Observation(ReadOnlySpan<double> state, Span<double> observation)
    {
        var h = linear.Observation;
        var d = linear.ObservationOffset;
        var x = state[..n];
        var y = observation[..m];
        for (var i = 0; i < y.Length; i++)
        {
            var row = h.Slice(i * n, x.Length);
            var s = 0.0;
            for (var j = 0; j < row.Length; j++)
            {
                s += row[j] * x[j];
            }

            y[i] = s + d[i];
        }
    }

    public void ObservationJacobian(ReadOnlySpan<double> state, Span<double> jacobian) => linear.Observation.CopyTo(jacobian);

    /// <summary>F, Q and c for a gap; the arrays may be longer than needed (use the first n×n, n×n and n values).</summary>
    private (double[] F, double[] Q, double[] C) Matrices(double gap)
    {
        if (transition is not null)
        {
            return (transition, noise!, offset!);
        }

        var d = cache ??= new Discretization();
        var nn = n * n;
        if (!ReferenceEquals(d.Owner, this) || BitConverter.DoubleToInt64Bits(d.Gap) != BitConverter.DoubleToInt64Bits(gap))
        {
            if (d.F.Length < nn)
            {
                d.F = new double[nn];
                d.Q = new double[nn];
                d.C = new double[n];
            }
            else if (d.C.Length < n)
            {
                d.C = new double[n];
            }

            var f = d.F.AsSpan(0, nn);
            var q = d.Q.AsSpan(0, nn);
            var c = d.C.AsSpan(0, n);
            f.Clear();
            q.Clear();
            c.Clear();
            linear.Dynamics.Discretize(gap, f, q, c);
            d.Owner = this;
            d.Gap = gap;
        }

        return (d.F, d.Q, d.C);
    }

    /// <summary>The last discretisation made on this thread.</summary>
    private sealed class Discretization
    {
        public LinearModelAdapter? Owner { get; set; }

        public double Gap { get; set; } = double.NaN;

        public double[] F { get; set; } = [];

        public double[] Q { get; set; } = [];

        public double[] C { get; set; } = [];
    }
}
