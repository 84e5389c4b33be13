using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace StreamSeq.Estimation.Tests.Gaussian.Adaptive;

/// <summary>
/// A deliberately plain, dense implementation of online noise learning for a linear Gaussian model, written from the
/// published equations with MathNet matrices, to check the production filter against.
/// </summary>
/// <remarks>
/// <para>Recursive maximum likelihood: the Kalman filter with the textbook covariance update P = P⁻ − K S K' and its
/// derivatives written the long way, ∂K = (∂P⁻ H' − K ∂S) S⁻¹, ∂a = ∂a⁻ + ∂K v + K ∂v and
/// ∂P = ∂P⁻ − ∂K S K' − K ∂S K' − K S ∂K' (the production filter differentiates the Joseph form instead); the score and
/// Fisher information of log N(v; 0, S); the discounted information and a clipped, ridge-regularised Gauss–Newton step
/// on log θ.</para>
/// <para>Variational Bayes (Särkkä and Nummenmaa 2009, IEEE TAC 54(3), the algorithm of their section III):
/// α⁻ = ρα, β⁻ = ρβ; α = α⁻ + ½, β⁽⁰⁾ = β⁻; N times: Σ = diag(β/α), the Kalman update with Σ, then
/// β = β⁻ + ½ (y − H m)² + ½ diag(H P H').</para>
/// <para>The outlier gate and the diffuse start follow docs/adaptation.md; the reference needs a proper prior.</para>
/// </remarks>
internal sealed class AdaptiveFilterReference
{
    private readonly Func<double, Matrix<double>> transition;
    private readonly Func<double, Vector<double>> offset;
    private readonly Func<double, Matrix<double>> fixedNoise;
    private readonly Func<double, Matrix<double>>[] bases;
    private readonly Matrix<double> h;
    private readonly Vector<double> d;
    private readonly Matrix<double> r0;
    private readonly bool[] rmlObservation;
    private readonly bool[] vbObservation;
    private readonly double rho;
    private readonly double gate2;
    private readonly double maxStep;
    private readonly int iterations;
    private readonly int n;
    private readonly int m;
    private readonly int p;
    private readonly int[] parameterOf;
    private Vector<double> a;
    private Matrix<double> cov;
    private readonly double[] phi;
    private readonly double[] alpha;
    private readonly double[] beta;
    private readonly bool[] rejectedBefore;
    private Vector<double>[] da;
    private Matrix<double>[] dp;
    private Matrix<double> information;
    private int steps;

    public AdaptiveFilterReference(
        Func<double, Matrix<double>> transition,
        Func<double, Vector<double>> offset,
        Func<double, Matrix<double>> fixedNoise,
        Func<double, Matrix<double>>[] bases,
        double[] rateStart,
        Matrix<double> observation,
        Vector<double> observationOffset,
        Matrix<double> observationNoise,
        bool[] rmlObservation,
        bool[] vbObservation,
        Vector<double> initialMean,
        Matrix<double> initialCovariance,
        double window,
        double gate,
        double maxStep,
        int iterations,
        double priorWeight)
    {
        this.transition = transition;
        this.offset = offset;
        this.fixedNoise = fixedNoise;
        this.bases = bases;
        h = observation;
        d = observationOffset;
        r0 = observationNoise;
        this.rmlObservation = rmlObservation;
        this.vbObservation = vbObservation;
        rho = 1.0 - (1.0 / window);
        gate2 = gate > 0 ? Math.Pow(Normal.InvCDF(0, 1, 1 - (gate / 2)), 2) : double.PositiveInfinity;
        this.maxStep = maxStep;
        this.iterations = iterations;
        n = initialMean.Count;
        m = observation.RowCount;
        parameterOf = new int[m];
        var list = new List<double>(rateStart.Select(v => Math.Log(v)));
        for (var i = 0; i < m; i++)
        {
            parameterOf[i] = -1;
            if (rmlObservation[i])
            {
                parameterOf[i] = list.Count;
                list.Add(Math.Log(observationNoise[i, i]));
            }
        }

        phi = [.. list];
        p = phi.Length;
        alpha = new double[m];
        beta = new double[m];
        for (var i = 0; i < m; i++)
        {
            alpha[i] = 0.5 * priorWeight;
            beta[i] = alpha[i] * observationNoise[i, i];
        }

        rejectedBefore = new bool[m];
        a = initialMean.Clone();
        cov = initialCovariance.Clone();
        da = [.. Enumerable.Range(0, p).Select(_ => Vector<double>.Build.Dense(n))];
        dp = [.. Enumerable.Range(0, p).Select(_ => Matrix<double>.Build.Dense(n, n))];
        information = Matrix<double>.Build.DenseIdentity(p) * (0.5 * priorWeight);
    }

    public Vector<double> PredictedMean { get; private set; } = Vector<double>.Build.Dense(1);

    public Matrix<double> PredictedCovariance { get; private set; } = Matrix<double>.Build.Dense(1, 1);

    public Vector<double> ObservationMean { get; private set; } = Vector<double>.Build.Dense(1);

    public Matrix<double> ObservationCovariance { get; private set; } = Matrix<double>.Build.Dense(1, 1);

    public Vector<double> Mean => a;

    public Matrix<double> Covariance => cov;

    public double LogLikelihood { get; private set; }

    public double Nis { get; private set; }

    public bool Rejected { get; private set; }

    /// <summary>θ_j (rate units), then the observation variances r_i (learned or fixed).</summary>
    public double[] Rates => [.. phi.Take(bases.Length).Select(v => Math.Exp(v))];

    public double ObservationVariance(int i) => rmlObservation[i] ? Math.Exp(phi[parameterOf[i]]) : vbObservation[i] ? beta[i] / alpha[i] : r0[i, i];

    public double Shape(int i) => alpha[i];

    public double Scale(int i) => beta[i];

    /// <summary>sd(log θ) from the ridge-regularised discounted information.</summary>
    public double LogDeviation(int j)
    {
        var trace = information.Trace();
        if (!(trace > 0))
        {
            return double.NaN;
        }

        var reg = information + (Matrix<double>.Build.DenseIdentity(p) * (1e-3 * trace / p));
        return Math.Sqrt(reg.Inverse()[j, j]);
    }

    public void Step(double gap, double[] y)
    {
        var theta = phi.Take(bases.Length).Select(v => Math.Exp(v)).ToArray();
        var r = r0.Clone();
        for (var i = 0; i < m; i++)
        {
            r[i, i] = ObservationVariance(i);
        }

        Vector<double> am;
        Matrix<double> pm;
        var dam = new Vector<double>[p];
        var dpm = new Matrix<double>[p];
        if (steps == 0)
        {
            am = a;
            pm = cov;
            for (var j = 0; j < p; j++)
            {
                dam[j] = da[j];
                dpm[j] = dp[j];
            }
        }
        else
        {
            var f = transition(gap);
            var q = fixedNoise(gap);
            for (var j = 0; j < bases.Length; j++)
            {
                q += theta[j] * bases[j](gap);
            }

            am = (f * a) + offset(gap);
            pm = (f * cov * f.Transpose()) + q;
            for (var j = 0; j < p; j++)
            {
                dam[j] = f * da[j];
                dpm[j] = f * dp[j] * f.Transpose();
                if (j < bases.Length)
                {
                    dpm[j] += theta[j] * bases[j](gap);
                }
            }
        }

        steps++;
        PredictedMean = am;
        PredictedCovariance = pm;
        ObservationMean = (h * am) + d;
        ObservationCovariance = (h * pm * h.Transpose()) + r;
        var all = Enumerable.Range(0, m).Where(i => double.IsFinite(y[i])).ToArray();
        Rejected = false;
        if (all.Length == 0)
        {
            a = am;
            cov = pm;
            da = dam;
            dp = dpm;
            LogLikelihood = double.NaN;
            Nis = double.NaN;
            return;
        }

        var sAll = Select(ObservationCovariance, all);
        var vAll = Vector<double>.Build.Dense(all.Length, k => y[all[k]] - ObservationMean[all[k]]);
        Nis = vAll * sAll.Inverse() * vAll;
        LogLikelihood = -0.5 * ((all.Length * Math.Log(2 * Math.PI)) + Math.Log(sAll.Determinant()) + Nis);
        var learn = true;
        var kept = new List<int>();
        foreach (var i in all)
        {
            var z2 = Math.Pow(y[i] - ObservationMean[i], 2) / ObservationCovariance[i, i];
            if (z2 > gate2)
            {
                learn = false;
                if (!rejectedBefore[i])
                {
                    rejectedBefore[i] = true;
                    Rejected = true;
                    continue;
                }
            }

            rejectedBefore[i] = false;
            kept.Add(i);
        }

        if (kept.Count == 0)
        {
            a = am;
            cov = pm;
            da = dam;
            dp = dpm;
            return;
        }

        var o = kept.ToArray();
        var ho = Matrix<double>.Build.Dense(o.Length, n, (k, c) => h[o[k], c]);
        var v = Vector<double>.Build.Dense(o.Length, k => y[o[k]] - ObservationMean[o[k]]);

        // Variational Bayes on the kept components (when learning), Särkkä and Nummenmaa's iteration.
        var ru = r.Clone();
        var betaMinus = (double[])beta.Clone();
        var variational = learn && vbObservation.Any(b => b);
        if (variational)
        {
            foreach (var i in o.Where(i => vbObservation[i]))
            {
                alpha[i] = (rho * alpha[i]) + 0.5;
                betaMinus[i] = rho * beta[i];
                beta[i] = betaMinus[i];
                ru[i, i] = beta[i] / alpha[i];
            }
        }

        Matrix<double> s = null!, k = null!;
        for (var iteration = 0; iteration < (variational ? iterations : 1); iteration++)
        {
            s = (ho * pm * ho.Transpose()) + Select(ru, o);
            k = pm * ho.Transpose() * s.Inverse();
            a = am + (k * v);
            cov = pm - (k * s * k.Transpose());
            if (!variational)
            {
                break;
            }

            foreach (var i in o.Where(i => vbObservation[i]))
            {
                var row = h.Row(i);
                var residual = y[i] - ((row * a) + d[i]);
                beta[i] = betaMinus[i] + (0.5 * residual * residual) + (0.5 * (row * cov * row));
                ru[i, i] = beta[i] / alpha[i];
            }
        }

        if (p == 0)
        {
            return;
        }

        // Tangents and the Gauss–Newton step.
        var sInv = s.Inverse();
        var g = new double[p];
        var dS = new Matrix<double>[p];
        var dv = new Vector<double>[p];
        for (var j = 0; j < p; j++)
        {
            var dR = Matrix<double>.Build.Dense(o.Length, o.Length);
            for (var c = 0; c < o.Length; c++)
            {
                if (parameterOf[o[c]] == j)
                {
                    dR[c, c] = ru[o[c], o[c]];
                }
            }

            dS[j] = (ho * dpm[j] * ho.Transpose()) + dR;
            dv[j] = -(ho * dam[j]);
            var dK = ((dpm[j] * ho.Transpose()) - (k * dS[j])) * sInv;
            g[j] = (-0.5 * (sInv * dS[j]).Trace()) + (0.5 * (v * sInv * dS[j] * sInv * v)) - (v * sInv * dv[j]);
            da[j] = dam[j] + (dK * v) + (k * dv[j]);
            dp[j] = dpm[j] - (dK * s * k.Transpose()) - (k * dS[j] * k.Transpose()) - (k * s * dK.Transpose());
        }

        if (!learn)
        {
            return;
        }

        var info = Matrix<double>.Build.Dense(p, p, (j, l) => (0.5 * (sInv * dS[j] * sInv * dS[l]).Trace()) + (dv[j] * sInv * dv[l]));
        information = (rho * information) + info;
        var trace = information.Trace();
        if (!(trace > 0))
        {
            return;
        }

        var step = (information + (Matrix<double>.Build.DenseIdentity(p) * (1e-3 * trace / p))).Solve(Vector<double>.Build.DenseOfArray(g));
        for (var j = 0; j < p; j++)
        {
            phi[j] += Math.Clamp(step[j], -maxStep, maxStep);
        }
    }

    private static Matrix<double> Select(Matrix<double> x, int[] rows) =>
        Matrix<double>.Build.Dense(rows.Length, rows.Length, (i, j) => x[rows[i], rows[j]]);
}
