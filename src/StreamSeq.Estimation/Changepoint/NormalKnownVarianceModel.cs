using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// Gaussian segments with known observation variance and a Gaussian prior on the segment mean:
/// y_c ~ N(μ_c, s²_c), μ_c ~ N(μ₀_c, s₀²_c), independently per component.
/// </summary>
/// <remarks>
/// s² is <see cref="Variance"/>, μ₀ <see cref="PriorMean"/> and s₀² <see cref="PriorVariance"/>. After n observations
/// with sum S: precision λ_n = 1/s₀² + n/s², mean m_n = (μ₀/s₀² + S/s²)/λ_n; the predictive is N(m_n, 1/λ_n + s²).
/// </remarks>
public sealed class NormalKnownVarianceModel : SegmentModel
{
    private readonly double[] variance;
    private readonly double[] priorMean;
    private readonly double[] priorVariance;

    /// <summary>Creates the model, one entry per component (errors name <c>variance</c>, <c>priorMean</c>, <c>priorVariance</c>).</summary>
    public NormalKnownVarianceModel(ReadOnlySpan<double> variance, ReadOnlySpan<double> priorMean, ReadOnlySpan<double> priorVariance)
        : base(variance.Length)
    {
        var m = variance.Length;
        if (m == 0)
        {
            throw new ModelValidationException("variance", "needs at least one component.");
        }

        SegmentChecks.Same("priorMean", priorMean, m);
        SegmentChecks.Same("priorVariance", priorVariance, m);
        SegmentChecks.Positive("variance", variance);
        SegmentChecks.AtMostMaxVariance("variance", variance);
        SegmentChecks.Finite("priorMean", priorMean);
        SegmentChecks.Positive("priorVariance", priorVariance);
        SegmentChecks.AtMostMaxVariance("priorVariance", priorVariance);
        this.variance = variance.ToArray();
        this.priorMean = priorMean.ToArray();
        this.priorVariance = priorVariance.ToArray();
    }

    /// <inheritdoc />
    public override string Type => "normal-known-variance";

    /// <summary>s²_c.</summary>
    public ReadOnlySpan<double> Variance => variance;

    /// <summary>μ₀_c.</summary>
    public ReadOnlySpan<double> PriorMean => priorMean;

    /// <summary>s₀²_c.</summary>
    public ReadOnlySpan<double> PriorVariance => priorVariance;

    /// <inheritdoc />
    internal override SegmentEngine CreateEngine(int maxCount) => new Engine(this, maxCount);

    /// <summary>Statistics per component: n, m_n. Everything that depends on n alone is tabulated.</summary>
    private sealed class Engine : SegmentEngine
    {
        private const double Log2Pi = 1.8378770664093453;
        private readonly int stride;
        private readonly double[] priorMeans;
        private readonly double[] logNormalizer;
        private readonly double[] halfInversePredictive;
        private readonly double[] posteriorVariance;
        private readonly double[] noise;
        private readonly double[] keep;
        private readonly double[] gain;

        public Engine(NormalKnownVarianceModel model, int maxCount)
            : base(model.Dimension, maxCount)
        {
            stride = maxCount + 2;
            var m = model.Dimension;
            priorMeans = model.priorMean.ToArray();
            logNormalizer = new double[m * stride];
            halfInversePredictive = new double[m * stride];
            posteriorVariance = new double[m * stride];
            noise = model.variance.ToArray();
            keep = new double[m * stride];
            gain = new double[m * stride];
            for (var c = 0; c < m; c++)
            {
                var s2 = model.variance[c];
                var s02 = model.priorVariance[c];
                for (var n = 0; n < stride; n++)
                {
                    var precision = (1.0 / s02) + (n / s2);
                    var next = precision + (1.0 / s2);
                    var v = (1.0 / precision) + s2;
                    var i = (c * stride) + n;
                    posteriorVariance[i] = 1.0 / precision;
                    logNormalizer[i] = -0.5 * (Log2Pi + Math.Log(v));
                    halfInversePredictive[i] = 0.5 / v;
                    keep[i] = precision / next;
                    gain[i] = 1.0 / s2 / next;
                }
            }
        }

        public override int StatsPerComponent => 2;

        public override void WritePrior(Span<double> stats, int cap, int j)
        {
            for (var c = 0; c < Dimension; c++)
            {
                stats[(2 * c * cap) + j] = 0.0;
                stats[(((2 * c) + 1) * cap) + j] = priorMeans[c];
            }
        }

        public override void Assimilate(Span<double> stats, int cap, int count, ReadOnlySpan<double> y, Span<double> logp, Span<double> scratch)
        {
            logp[..count].Clear();
            for (var c = 0; c < Dimension; c++)
            {
                var x = y[c];
                if (!double.IsFinite(x))
                {
                    continue;
                }

                var counts = stats.Slice(2 * c * cap, count);
                var means = stats.Slice(((2 * c) + 1) * cap, count);
                var ln = logNormalizer.AsSpan(c * stride, stride);
                var hi = halfInversePredictive.AsSpan(c * stride, stride);
                var kp = keep.AsSpan(c * stride, stride);
                var gn = gain.AsSpan(c * stride, stride);
                var lp = logp[..count];
                var start = RunTables.ContiguousStart(counts, stride);
                if (start >= 0)
                {
                    Contiguous(x, means, lp, ln.Slice(start, count), hi.Slice(start, count), kp.Slice(start, count), gn.Slice(start, count));
                    TensorPrimitives.Add(counts, 1.0, counts);
                    continue;
                }

                for (var j = 0; j < counts.Length; j++)
                {
                    var n = (int)counts[j];
                    var mean = means[j];
                    var d = x - mean;
                    lp[j] += ln[n] - (d * d * hi[n]);
                    means[j] = (kp[n] * mean) + (gn[n] * x);
                    counts[j] = n + 1;
                }
            }
        }

        /// <summary>The loop of <see cref="Assimilate"/> with the tables already aligned to the hypotheses (same operations, in vectors).</summary>
        private static void Contiguous(double x, Span<double> means, Span<double> lp, ReadOnlySpan<double> ln, ReadOnlySpan<double> hi, ReadOnlySpan<double> kp, ReadOnlySpan<double> gn)
        {
            var count = means.Length;
            ref var mr = ref MemoryMarshal.GetReference(means);
            ref var lr = ref MemoryMarshal.GetReference(lp);
            ref var lnr = ref MemoryMarshal.GetReference(ln);
            ref var hir = ref MemoryMarshal.GetReference(hi);
            ref var kpr = ref MemoryMarshal.GetReference(kp);
            ref var gnr = ref MemoryMarshal.GetReference(gn);
            var j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var xv = Vector256.Create(x);
                for (; j <= count - 4; j += 4)
                {
                    var u = (nuint)j;
                    var mean = Vector256.LoadUnsafe(ref mr, u);
                    var d = xv - mean;
                    var l = Vector256.LoadUnsafe(ref lr, u) + (Vector256.LoadUnsafe(ref lnr, u) - (d * d * Vector256.LoadUnsafe(ref hir, u)));
                    l.StoreUnsafe(ref lr, u);
                    ((Vector256.LoadUnsafe(ref kpr, u) * mean) + (Vector256.LoadUnsafe(ref gnr, u) * xv)).StoreUnsafe(ref mr, u);
                }
            }

            for (; j < count; j++)
            {
                var mean = means[j];
                var d = x - mean;
                lp[j] += ln[j] - (d * d * hi[j]);
                means[j] = (kp[j] * mean) + (gn[j] * x);
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

                var ni = (2 * c * cap) + j;
                var mi = (((2 * c) + 1) * cap) + j;
                var n = (int)stats[ni];
                stats[mi] = (keep[(c * stride) + n] * stats[mi]) + (gain[(c * stride) + n] * x);
                stats[ni] = n + 1;
            }
        }

        public override void PosteriorMoments(ReadOnlySpan<double> stats, int cap, int count, Span<double> means, Span<double> variances, int momentCap) =>
            Moments(stats, cap, count, means, variances, momentCap, posteriorVariance);

        public override ReadOnlySpan<double> ConstantNoise => noise;

        public override void NoiseVariances(ReadOnlySpan<double> stats, int cap, int count, Span<double> noise, int momentCap)
        {
            for (var c = 0; c < Dimension; c++)
            {
                noise.Slice(c * momentCap, count).Fill(this.noise[c]);
            }
        }

        private void Moments(ReadOnlySpan<double> stats, int cap, int count, Span<double> means, Span<double> variances, int momentCap, double[] table)
        {
            for (var c = 0; c < Dimension; c++)
            {
                stats.Slice(((2 * c) + 1) * cap, count).CopyTo(means.Slice(c * momentCap, count));
                var counts = stats.Slice(2 * c * cap, count);
                var v = variances.Slice(c * momentCap, count);
                var t = table.AsSpan(c * stride, stride);
                var start = RunTables.ContiguousStart(counts, stride);
                if (start >= 0)
                {
                    t.Slice(start, count).CopyTo(v);
                    continue;
                }

                for (var j = 0; j < counts.Length; j++)
                {
                    v[j] = t[(int)counts[j]];
                }
            }
        }
    }
}
