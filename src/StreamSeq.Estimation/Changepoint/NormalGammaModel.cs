using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MathNet.Numerics;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// Gaussian segments with unknown mean and precision under a Normal-Gamma prior, independently per component:
/// y_c ~ N(μ_c, 1/τ_c), τ_c ~ Gamma(shape α₀, rate β₀), μ_c | τ_c ~ N(μ₀, 1/(κ₀ τ_c)).
/// </summary>
/// <remarks>
/// <para>μ₀ is <see cref="PriorMean"/>, κ₀ <see cref="Kappa"/>, α₀ <see cref="Alpha"/> and β₀ <see cref="Beta"/> (a
/// rate). Updating with x: μ' = (κμ + x)/(κ+1), κ' = κ+1, α' = α + ½, β' = β + κ(x − μ)²/(2(κ+1)). The predictive is
/// Student-t with ν = 2α, location μ and scale² = β(κ+1)/(ακ); the segment mean's posterior is Student-t with
/// ν = 2α, location μ and scale² = β/(ακ).</para>
/// <para>Variances are reported as +∞ while α ≤ 1 (a t with ν ≤ 2 has no variance): with α₀ = 1, the prior
/// predictive and therefore every mixture that includes "a changepoint now" has infinite variance. Choose α₀ &gt; 1
/// when finite predictive variances matter.</para>
/// <para>Everything that depends on n alone (the log-gamma ratio, α_n, κ_n factors) is tabulated once per count;
/// log β_n is carried in the statistics and log β' is computed once per hypothesis with the managed logarithm of
/// <c>InlineMath</c> (the same function in the vector and scalar paths, so they agree bit for bit).</para>
/// </remarks>
public sealed class NormalGammaModel : SegmentModel
{
    private readonly double[] priorMean;
    private readonly double[] kappa;
    private readonly double[] alpha;
    private readonly double[] beta;

    /// <summary>Creates the model, one entry per component (errors name <c>priorMean</c>, <c>kappa</c>, <c>alpha</c>, <c>beta</c>).</summary>
    public NormalGammaModel(ReadOnlySpan<double> priorMean, ReadOnlySpan<double> kappa, ReadOnlySpan<double> alpha, ReadOnlySpan<double> beta)
        : base(priorMean.Length)
    {
        var m = priorMean.Length;
        if (m == 0)
        {
            throw new ModelValidationException("priorMean", "needs at least one component.");
        }

        SegmentChecks.Same("kappa", kappa, m);
        SegmentChecks.Same("alpha", alpha, m);
        SegmentChecks.Same("beta", beta, m);
        SegmentChecks.Finite("priorMean", priorMean);
        SegmentChecks.Positive("kappa", kappa);
        SegmentChecks.Positive("alpha", alpha);
        SegmentChecks.Positive("beta", beta);
        SegmentChecks.AtMostMaxVariance("beta", beta);
        this.priorMean = priorMean.ToArray();
        this.kappa = kappa.ToArray();
        this.alpha = alpha.ToArray();
        this.beta = beta.ToArray();
    }

    /// <inheritdoc />
    public override string Type => "normal-gamma";

    /// <summary>μ₀_c.</summary>
    public ReadOnlySpan<double> PriorMean => priorMean;

    /// <summary>κ₀_c.</summary>
    public ReadOnlySpan<double> Kappa => kappa;

    /// <summary>α₀_c (shape).</summary>
    public ReadOnlySpan<double> Alpha => alpha;

    /// <summary>β₀_c (rate).</summary>
    public ReadOnlySpan<double> Beta => beta;

    /// <inheritdoc />
    internal override SegmentEngine CreateEngine(int maxCount) => new Engine(this, maxCount);

    /// <summary>Statistics per component: n, μ_n, β_n, log β_n; κ_n and α_n follow from n and are tabulated.</summary>
    private sealed class Engine : SegmentEngine
    {
        private const int S = 4;
        private readonly int stride;
        private readonly NormalGammaModel model;
        private readonly double[] constant;
        private readonly double[] shape;
        private readonly double[] shapeHalf;
        private readonly double[] spread;
        private readonly double[] step;
        private readonly double[] posteriorFactor;
        private readonly double[] noiseFactor;

        public Engine(NormalGammaModel model, int maxCount)
            : base(model.Dimension, maxCount)
        {
            this.model = model;
            stride = maxCount + 2;
            var m = model.Dimension;
            constant = new double[m * stride];
            shape = new double[m * stride];
            shapeHalf = new double[m * stride];
            spread = new double[m * stride];
            step = new double[m * stride];
            posteriorFactor = new double[m * stride];
            noiseFactor = new double[m * stride];
            for (var c = 0; c < m; c++)
            {
                for (var n = 0; n < stride; n++)
                {
                    var k = model.kappa[c] + n;
                    var a = model.alpha[c] + (0.5 * n);
                    var i = (c * stride) + n;

                    // log t_{2a}(x; μ, β(κ+1)/(aκ)) = C + a log β − (a + ½) log(β + (x − μ)² κ/(2(κ+1))).
                    constant[i] = SpecialFunctions.GammaLn(a + 0.5) - SpecialFunctions.GammaLn(a) - (0.5 * Math.Log(2.0 * Math.PI * (k + 1.0) / k));
                    shape[i] = a;
                    shapeHalf[i] = a + 0.5;
                    spread[i] = k / (2.0 * (k + 1.0));
                    step[i] = 1.0 / (k + 1.0);
                    posteriorFactor[i] = a > 1.0 ? 1.0 / (k * (a - 1.0)) : double.PositiveInfinity;
                    noiseFactor[i] = a > 1.0 ? 1.0 / (a - 1.0) : double.PositiveInfinity;
                }
            }
        }

        public override int StatsPerComponent => S;

        public override void WritePrior(Span<double> stats, int cap, int j)
        {
            for (var c = 0; c < Dimension; c++)
            {
                var b = (S * c * cap) + j;
                stats[b] = 0.0;
                stats[b + cap] = model.priorMean[c];
                stats[b + (2 * cap)] = model.beta[c];
                stats[b + (3 * cap)] = InlineMath.Log(model.beta[c]);
            }
        }

        public override void Assimilate(Span<double> stats, int cap, int count, ReadOnlySpan<double> y, Span<double> logp, Span<double> scratch)
        {
            logp[..count].Clear();
            var nextBeta = scratch[..count];
            var logNextBeta = scratch.Slice(count, count);
            for (var c = 0; c < Dimension; c++)
            {
                var x = y[c];
                if (!double.IsFinite(x))
                {
                    continue;
                }

                var block = S * c * cap;
                var counts = stats.Slice(block, count);
                var mu = stats.Slice(block + cap, count);
                var beta = stats.Slice(block + (2 * cap), count);
                var logBeta = stats.Slice(block + (3 * cap), count);
                var sp = spread.AsSpan(c * stride, stride);
                var start = RunTables.ContiguousStart(counts, stride);
                if (start >= 0)
                {
                    Contiguous(c, start, x, mu, beta, logBeta, logp[..count]);
                    TensorPrimitives.Add(counts, 1.0, counts);
                    continue;
                }

                for (var j = 0; j < counts.Length; j++)
                {
                    var d = x - mu[j];
                    nextBeta[j] = beta[j] + (d * d * sp[(int)counts[j]]);
                }

                // β' is also the quantity inside the predictive's log: one (vectorised) log per hypothesis.
                InlineMath.Log(nextBeta, logNextBeta);
                var co = constant.AsSpan(c * stride, stride);
                var sh = shape.AsSpan(c * stride, stride);
                var shh = shapeHalf.AsSpan(c * stride, stride);
                var st = step.AsSpan(c * stride, stride);
                var lp = logp[..count];
                for (var j = 0; j < counts.Length; j++)
                {
                    var n = (int)counts[j];
                    lp[j] += co[n] + (sh[n] * logBeta[j]) - (shh[n] * logNextBeta[j]);
                    mu[j] += (x - mu[j]) * st[n];
                    beta[j] = nextBeta[j];
                    logBeta[j] = logNextBeta[j];
                    counts[j] = n + 1;
                }
            }
        }

        /// <summary>
        /// The loops of <see cref="Assimilate"/> for component c with the tables aligned to the hypotheses (entry j has
        /// count start + j): the same operations, fused into one vector pass.
        /// </summary>
        private void Contiguous(int c, int start, double x, Span<double> mu, Span<double> beta, Span<double> logBeta, Span<double> lp)
        {
            var count = mu.Length;
            var offset = (c * stride) + start;
            ref var mr = ref MemoryMarshal.GetReference(mu);
            ref var br = ref MemoryMarshal.GetReference(beta);
            ref var lbr = ref MemoryMarshal.GetReference(logBeta);
            ref var lr = ref MemoryMarshal.GetReference(lp);
            ref var spr = ref spread[offset];
            ref var cor = ref constant[offset];
            ref var shr = ref shape[offset];
            ref var shhr = ref shapeHalf[offset];
            ref var str = ref step[offset];
            var xv = Vector256.Create(x);
            var j = 0;
            for (; j <= count - 4; j += 4)
            {
                var u = (nuint)j;
                var mean = Vector256.LoadUnsafe(ref mr, u);
                var d = xv - mean;
                var nextBeta = Vector256.LoadUnsafe(ref br, u) + (d * d * Vector256.LoadUnsafe(ref spr, u));
                var logNext = InlineMath.Log(nextBeta);
                var l = Vector256.LoadUnsafe(ref lr, u) + (Vector256.LoadUnsafe(ref cor, u) + (Vector256.LoadUnsafe(ref shr, u) * Vector256.LoadUnsafe(ref lbr, u)) - (Vector256.LoadUnsafe(ref shhr, u) * logNext));
                l.StoreUnsafe(ref lr, u);
                (mean + (d * Vector256.LoadUnsafe(ref str, u))).StoreUnsafe(ref mr, u);
                nextBeta.StoreUnsafe(ref br, u);
                logNext.StoreUnsafe(ref lbr, u);
            }

            for (; j < count; j++)
            {
                var d = x - mu[j];
                var nextBeta = beta[j] + (d * d * Unsafe.Add(ref spr, j));
                var logNext = InlineMath.Log(nextBeta);
                lp[j] += Unsafe.Add(ref cor, j) + (Unsafe.Add(ref shr, j) * logBeta[j]) - (Unsafe.Add(ref shhr, j) * logNext);
                mu[j] += d * Unsafe.Add(ref str, j);
                beta[j] = nextBeta;
                logBeta[j] = logNext;
            }
        }

        public override void UpdateOne(Span<double> stats, int cap, int j, ReadOnlySpan<double> y)
        {
            for (var c = 0; c < Dimension; c++)
            {
                var x = y[c];
                if (!double.IsFinite(x))
                {
                    continue;
                }

                var b = (S * c * cap) + j;
                var n = (int)stats[b];
                var i = (c * stride) + n;
                var d = x - stats[b + cap];
                var nextBeta = stats[b + (2 * cap)] + (d * d * spread[i]);
                stats[b + cap] += d * step[i];
                stats[b + (2 * cap)] = nextBeta;
                stats[b + (3 * cap)] = InlineMath.Log(nextBeta);
                stats[b] = n + 1;
            }
        }

        public override void PosteriorMoments(ReadOnlySpan<double> stats, int cap, int count, Span<double> means, Span<double> variances, int momentCap) =>
            Moments(stats, cap, count, means, variances, momentCap, posteriorFactor);


        public override void NoiseVariances(ReadOnlySpan<double> stats, int cap, int count, Span<double> noise, int momentCap) =>
            Scaled(stats, cap, count, noise, momentCap, noiseFactor);

        private void Moments(ReadOnlySpan<double> stats, int cap, int count, Span<double> means, Span<double> variances, int momentCap, double[] factor)
        {
            for (var c = 0; c < Dimension; c++)
            {
                stats.Slice((S * c * cap) + cap, count).CopyTo(means.Slice(c * momentCap, count));
            }

            Scaled(stats, cap, count, variances, momentCap, factor);
        }

        /// <summary>β_j times a factor tabulated by n.</summary>
        private void Scaled(ReadOnlySpan<double> stats, int cap, int count, Span<double> variances, int momentCap, double[] factor)
        {
            for (var c = 0; c < Dimension; c++)
            {
                var block = S * c * cap;
                var counts = stats.Slice(block, count);
                var beta = stats.Slice(block + (2 * cap), count);
                var v = variances.Slice(c * momentCap, count);
                var f = factor.AsSpan(c * stride, stride);
                var start = RunTables.ContiguousStart(counts, stride);
                if (start >= 0)
                {
                    TensorPrimitives.Multiply(beta, f.Slice(start, count), v);
                    continue;
                }

                for (var j = 0; j < counts.Length; j++)
                {
                    v[j] = beta[j] * f[(int)counts[j]];
                }
            }
        }
    }
}
