using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// Bayesian online changepoint detection (Adams &amp; MacKay 2007): a posterior over the run length r_t (how long the
/// current segment has lasted), a conjugate <see cref="SegmentModel"/> per run length and a pluggable
/// <see cref="ChangepointHazard"/>, with pruning and a cap so the cost per step is bounded.
/// </summary>
/// <remarks>
/// <para><b>Recursion.</b> Let q_t(r) be the probability, before y_t, that y_t continues a segment which already has r
/// steps (r = 0: y_t starts a new one), and π_t(r) = p(y_t | that segment's previous observations). Then
/// p(y_t | y_{1:t−1}) = Σ_r q_t(r) π_t(r), and P_cp(r_t = r | y_{1:t}) = q_t(r) π_t(r) / p(y_t | y_{1:t−1}) is the
/// changepoint-at-t posterior (r_t = steps of the current segment before y_t, so P_cp(r_t = 0) = "y_t starts a
/// segment"). Adams &amp; MacKay's posterior follows by pushing it through the hazard h:
/// P_am(r_t = r + 1) = (1 − h(r + 1)) P_cp(r_t = r), P_am(r_t = 0) = Σ_r h(r + 1) P_cp(r_t = r), and
/// q_{t+1} = P_am(r_t). <see cref="RunLengthRecursion"/> chooses which of the two posteriors is stored between steps,
/// pruned, and summarised in <c>mapRunLength</c> / <c>expectedRunLength</c>; both give the same predictive densities
/// and evidence. Extras: <c>changepointProbability</c> = P_cp(r_t = 0), <c>runLengthZeroProbability</c> =
/// P_am(r_t = 0) (equal to the hazard when it is constant), <c>mapRunLength</c> (smallest r on ties) and
/// <c>expectedRunLength</c>.</para>
/// <para><b>State.</b> The hidden state h_t is the mean μ of the segment that generated y_t (one entry per
/// component). StateMean/StateCovariance are the moments of the mixture over P_cp(r_t) of the segment posteriors;
/// PredictedMean/Covariance the same under q_t (a new segment contributes the prior); ObservationMean/Covariance
/// are the moments of the predictive mixture. Run lengths count time steps: a wholly missing observation moves every
/// run on by one step (with the hazard) without changing any segment posterior.</para>
/// <para><b>Bounded cost.</b> After each step, hypotheses whose probability is below the prune threshold are
/// dropped (probabilities below 1e-300 always are) and the rest renormalised. Run lengths are capped at
/// <see cref="MaxRunLength"/> R: a run that would grow past R is merged with the one at R, and a capped run's
/// segment posterior uses only its most recent R (Adams–MacKay) or R + 1 (changepoint form) steps, kept in a ring
/// buffer in the state, with hazard h(R + 1). With R at least the stream length and no pruning the recursion is
/// exact.</para>
/// <para><b>Cost.</b> A step is a few vector passes over the hypotheses. The observation models tabulate everything
/// that depends on a hypothesis' observed count n once; when the counts are consecutive (no gaps, no pruning) each
/// table is read as one contiguous slice and the assimilation is plain vector arithmetic, otherwise it is gathered
/// entry by entry with the same operations. exp(log π − max), the prior weighting and the evidence sum are one pass
/// with the managed vector exp (<c>InlineMath</c>); the univariate mixture moments, the MAP run length and the
/// expected run length are fused passes. Sums accumulate in vector lanes, so results differ from a serial evaluation
/// by rounding only.</para>
/// <para><b>Smoothing.</b> The backward step is exact for the (pruned, capped) run-length chain: with
/// β_t(r) = p(y_{t+1:T} | r_t = r, y_{1:t}) (scaled), β_t(r) = (1 − h(r+1)) π_{t+1}(r+1) β_{t+1}(r+1) +
/// h(r+1) π_{t+1}(0) β_{t+1}(0), and the smoothed segment-mean moments given r_t = r follow the same split: a run
/// that continues carries E[μ | r_{t+1} = r + 1, y_{1:T}], one that ends at t keeps its filtered posterior. The
/// forward record stores each hypothesis' run length, probability, segment-mean moments and the predictive
/// densities π_t, so memory per record is about (2 + 2m)(R + 1) + 2(R + 2) doubles: keep R small when smoothing
/// with a long lag.</para>
/// <para><b>Guard rails.</b> A reading whose density underflows under every hypothesis (its squared distance
/// overflows, as for 1e200 with unit variances) is skipped as the Kalman filter skips one
/// (<see cref="EstimateFlags.ObservationSkipped"/>, log-likelihood −∞, NIS +∞) and the step goes on as for a missing
/// reading. A non-finite or zero evidence otherwise (a corrupted state) re-initialises the stream from the
/// prior with this reading as the first (<see cref="EstimateFlags.Reinitialized"/>), or leaves it at the prior when
/// that first step fails too. Variances that do not exist (Normal-Gamma with α ≤ 1) are
/// reported as +∞ and then give NIS = 0.</para>
/// </remarks>
[SkipLocalsInit]
public sealed class BayesianChangepointDetector : IEstimator, IBackwardStep, IRestartRecords
{
    /// <summary>Default cap on the run length.</summary>
    public const int DefaultMaxRunLength = 500;

    /// <summary>The most numbers the run lengths of one stream may take, (<c>maxRunLength</c> + 2) × (1 + d + d²).</summary>
    internal const long MaxStateNumbers = 10_000_000;

    /// <summary>Default prune threshold.</summary>
    public const double DefaultPruneBelow = 1e-10;

    /// <summary>Probabilities below this are always dropped: they cannot change any sum in double precision.</summary>
    public const double ProbabilityFloor = 1e-300;

    private const int StepsSlot = 0;
    private const int CountSlot = 1;
    private const int HeadSlot = 2;
    private const int HeaderLength = 4;

    private readonly SegmentEngine engine;
    private readonly int m;
    private readonly int r;
    private readonly int capacity;
    private readonly int sources;
    private readonly int statsLength;
    private readonly double threshold;
    private readonly bool adamsMacKay;
    private readonly double[] hazard;
    private readonly double constantHazard;
    private readonly double[] priorStats;
    private readonly double[] priorMean;
    private readonly double[] priorVariance;
    private readonly int meanSlot;
    private readonly int covSlot;
    private readonly int runSlot;
    private readonly int probabilitySlot;
    private readonly int statsSlot;
    private readonly int ringSlot;
    private readonly int ringLength;

    /// <summary>Creates the detector.</summary>
    /// <param name="hazard">The hazard function.</param>
    /// <param name="observation">The segment observation model.</param>
    /// <param name="maxRunLength">Largest run length kept, R ≥ 1 (field <c>maxRunLength</c>).</param>
    /// <param name="pruneBelow">Drop hypotheses below this probability, in [0, 1) (field <c>pruneBelow</c>).</param>
    /// <param name="recursion">Which run-length posterior is stored and summarised (field <c>variant</c>).</param>
    public BayesianChangepointDetector(
        ChangepointHazard hazard,
        SegmentModel observation,
        int maxRunLength = DefaultMaxRunLength,
        double pruneBelow = DefaultPruneBelow,
        RunLengthRecursion recursion = RunLengthRecursion.Changepoint)
    {
        ArgumentNullException.ThrowIfNull(hazard);
        ArgumentNullException.ThrowIfNull(observation);
        if (maxRunLength < 1)
        {
            throw new ModelValidationException("maxRunLength", $"must be at least 1, got {maxRunLength}.");
        }

        // Every run length keeps its statistics, and a smoothing message its mean and covariance, in each stream.
        var perRunLength = 1L + observation.Dimension + ((long)observation.Dimension * observation.Dimension);
        if ((maxRunLength + 2L) * perRunLength > MaxStateNumbers)
        {
            throw new ModelValidationException("maxRunLength", $"must be at most {(MaxStateNumbers / perRunLength) - 2:N0} with {observation.Dimension} dimension{(observation.Dimension == 1 ? string.Empty : "s")} (every stream keeps 1 + d + d² numbers per run length, at most {MaxStateNumbers:N0}), got {maxRunLength}.");
        }

        if (!(pruneBelow >= 0.0 && pruneBelow < 1.0))
        {
            throw new ModelValidationException("pruneBelow", $"must be a probability in [0, 1), got {pruneBelow}.");
        }

        Hazard = hazard;
        Observation = observation;
        MaxRunLength = maxRunLength;
        PruneBelow = pruneBelow;
        Recursion = recursion;
        m = observation.Dimension;
        r = maxRunLength;
        capacity = r + 1;
        sources = r + 2;
        threshold = Math.Max(pruneBelow, ProbabilityFloor);
        adamsMacKay = recursion == RunLengthRecursion.AdamsMacKay;
        engine = observation.CreateEngine(r + 2);
        statsLength = engine.StatsPerComponent * m;

        this.hazard = new double[r + 2];
        for (var d = 1; d <= r + 1; d++)
        {
            var h = hazard.Probability(d);
            if (!(h >= 0.0 && h <= 1.0))
            {
                throw new ModelValidationException("hazard", $"h({d}) = {h} is not a probability.");
            }

            this.hazard[d] = h;
        }

        constantHazard = this.hazard.Skip(2).All(h => h == this.hazard[1]) ? this.hazard[1] : double.NaN;
        priorStats = new double[statsLength];
        engine.WritePrior(priorStats, 1, 0);
        priorMean = new double[m];
        priorVariance = new double[m];
        engine.PosteriorMoments(priorStats, 1, 1, priorMean, priorVariance, 1);

        meanSlot = HeaderLength;
        covSlot = meanSlot + m;
        runSlot = covSlot + (m * m);
        probabilitySlot = runSlot + capacity;
        statsSlot = probabilitySlot + capacity;
        ringSlot = statsSlot + (statsLength * capacity);
        ringLength = r + 1;
        Info = new EstimatorInfo
        {
            Family = "bocpd",
            StateDimension = m,
            ObservationDimension = m,
            StateLength = ringSlot + (ringLength * m),
            BackwardRecordLength = 2 + (capacity * (2 + (2 * m))) + (2 * sources),
            SmoothingMessageLength = capacity * (1 + m + (m * m)),
            Extras =
            [
                new ExtraField("changepointProbability"),
                new ExtraField("mapRunLength", 1, IsInteger: true),
                new ExtraField("expectedRunLength"),
                new ExtraField("runLengthZeroProbability"),
            ],
        };
    }

    /// <summary>The hazard function.</summary>
    public ChangepointHazard Hazard { get; }

    /// <summary>The segment observation model.</summary>
    public SegmentModel Observation { get; }

    /// <summary>The run-length cap R.</summary>
    public int MaxRunLength { get; }

    /// <summary>The prune threshold.</summary>
    public double PruneBelow { get; }

    /// <summary>Which run-length posterior is stored and summarised.</summary>
    public RunLengthRecursion Recursion { get; }

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        state[..Info.StateLength].Clear();
        priorMean.CopyTo(state.Slice(meanSlot, m));
        var cov = state.Slice(covSlot, m * m);
        for (var c = 0; c < m; c++)
        {
            cov[(c * m) + c] = priorVariance[c];
        }

        if (adamsMacKay)
        {
            // P(r_0 = 0) = 1: the first observation starts a run.
            state[CountSlot] = 1;
            state[runSlot] = 0;
            state[probabilitySlot] = 1.0;
            engine.WritePrior(state.Slice(statsSlot, statsLength * capacity), capacity, 0);
        }
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        estimate.Reset();
        var q = sources;
        var rest = StepScratch.Get(q * (12 + statsLength + (3 * m)));
        var srl = Carve(ref rest, q);
        var sp = Carve(ref rest, q);
        var sst = Carve(ref rest, statsLength * q);
        var logp = Carve(ref rest, q);
        var weight = Carve(ref rest, q);
        var work = Carve(ref rest, 2 * q);
        var means = Carve(ref rest, m * q);
        var variances = Carve(ref rest, m * q);
        var noise = Carve(ref rest, m * q);
        var keep = Carve(ref rest, q);
        var mixture = Carve(ref rest, 2 * q);
        var density = Carve(ref rest, q);

        // 1. Hypotheses for y_t: q_t(r) with their segment statistics.
        var ns = BuildSources(state, srl, sp, sst);

        // 2. Predicted segment mean; the predictive of y_t adds the expected noise variance (law of total variance).
        engine.PosteriorMoments(sst, q, ns, means, variances, q);
        Mixture(sp[..ns], means, variances, q, estimate.PredictedMean, estimate.PredictedCovariance, mixture);
        estimate.PredictedMean.AsSpan(0, m).CopyTo(estimate.ObservationMean);
        estimate.PredictedCovariance.AsSpan(0, m * m).CopyTo(estimate.ObservationCovariance);
        AddNoise(sst, sp[..ns], noise, estimate.ObservationCovariance);

        // 3. Assimilate y_t.
        var y = observation.Values[..m];
        var head = (int)state[HeadSlot];
        y.CopyTo(state.Slice(ringSlot + (head * m), m));
        state[HeadSlot] = head + 1 == ringLength ? 0 : head + 1;
        var observed = ObservedCount(y);
        var e = density[..ns];
        double evidence = 0.0;
        var skipped = false;
        if (observed > 0)
        {
            engine.Assimilate(sst, q, ns, y, logp, work);
            var max = TensorPrimitives.Max(logp[..ns]);
            if (!double.IsFinite(max))
            {
                max = MaskedMax(logp[..ns], sp);
            }

            if (double.IsNegativeInfinity(max))
            {
                // The reading's density underflows (its squared distance overflows) under every hypothesis: skip it
                // as the Kalman filter does (log-likelihood −∞, NIS +∞), and go on as for a missing reading rather
                // than throw the run-length posterior away. The segment statistics were already updated with it, so
                // rebuild them, and keep it out of the ring a capped run is recomputed from.
                skipped = true;
                state.Slice(ringSlot + (head * m), m).Fill(double.NaN);
                ns = BuildSources(state, srl, sp, sst);
                estimate.Flags |= EstimateFlags.ObservationSkipped;
                estimate.LogLikelihood = double.NegativeInfinity;
                estimate.NormalizedInnovationSquared = double.PositiveInfinity;
                estimate.ObservedCount = observed;
            }
            else
            {
                evidence = Weigh(logp[..ns], sp, e, weight, max);
                if (!(evidence > 0.0) || !double.IsFinite(evidence))
                {
                    // The best density sat on a hypothesis with zero prior weight: scale by the best weighted one.
                    max = MaskedMax(logp[..ns], sp);
                    evidence = Weigh(logp[..ns], sp, e, weight, max);
                }

                estimate.LogLikelihood = max + Math.Log(evidence);
                estimate.ObservedCount = observed;
                estimate.NormalizedInnovationSquared = InnovationSquared(y, observed, estimate);
            }
        }

        if (observed == 0 || skipped)
        {
            e.Fill(1.0);
            sp[..ns].CopyTo(weight);
            evidence = TensorPrimitives.Sum(weight[..ns]);
        }

        if (!(evidence > 0.0) || !double.IsFinite(evidence) || (observed > 0 && !skipped && !double.IsFinite(estimate.LogLikelihood)))
        {
            if (state[StepsSlot] > 0.0)
            {
                // The stream starts again from the prior with this reading as the first, as a stream does whose first
                // reading this is; when that fails too, it stays at the prior and the next reading is the first.
                Initialize(state, 0);
                Step(state, observation, estimate, backwardRecord);
                estimate.Flags |= EstimateFlags.Reinitialized;
                return;
            }

            Reinitialize(state, estimate);
            return;
        }

        var recording = !backwardRecord.IsEmpty;
        if (recording)
        {
            // Predictive densities of this step per hypothesis, for the backward pass of the previous step.
            WriteSources(backwardRecord, srl[..ns], e);
        }

        var alpha = weight[..ns];
        TensorPrimitives.Multiply(alpha, 1.0 / evidence, alpha);

        // 4. The changepoint-form posterior P_cp(r_t): cap the longest run.
        var nc = ns;
        if (srl[nc - 1] > r)
        {
            if (nc >= 2 && srl[nc - 2] == r)
            {
                alpha[nc - 2] += alpha[nc - 1];
                nc--;
            }
            else
            {
                srl[nc - 1] = r;
                Recompute(state, sst, q, nc - 1, r + 1);
            }
        }

        var changepointProbability = srl[0] == 0.0 ? alpha[0] : 0.0;
        engine.PosteriorMoments(sst, q, nc, means, variances, q);
        Mixture(alpha[..nc], means, variances, q, estimate.StateMean, estimate.StateCovariance, mixture);
        estimate.StateMean.AsSpan(0, m).CopyTo(state.Slice(meanSlot, m));
        estimate.StateCovariance.AsSpan(0, m * m).CopyTo(state.Slice(covSlot, m * m));

        // 5. Adams–MacKay mass at zero, and the posterior that is stored.
        var zeroProbability = 0.0;
        if (!double.IsNaN(constantHazard))
        {
            zeroProbability = constantHazard * TensorPrimitives.Sum(alpha[..nc]);
        }
        else
        {
            for (var j = 0; j < nc; j++)
            {
                zeroProbability += alpha[j] * hazard[HazardIndex(srl[j] + 1)];
            }
        }

        double map, expected;
        if (adamsMacKay)
        {
            (map, expected) = StoreAdamsMacKay(state, srl, alpha, sst, nc, zeroProbability, work);
            if (recording)
            {
                WriteEntries(backwardRecord, srl, alpha, means, variances, nc, default);
            }
        }
        else
        {
            (map, expected) = StoreChangepoint(state, srl, alpha, sst, nc, keep);
            if (recording)
            {
                WriteEntries(backwardRecord, srl, alpha, means, variances, nc, keep);
            }
        }

        state[StepsSlot] += 1.0;
        var extras = estimate.Extras;
        extras[0] = changepointProbability;
        extras[1] = map;
        extras[2] = expected;
        extras[3] = zeroProbability;
    }

    private static Span<double> Carve(ref Span<double> rest, int length)
    {
        var slice = rest[..length];
        rest = rest[length..];
        return slice;
    }

    /// <summary>Adds diag(Σ w · noise / Σ w) to a covariance (a constant noise when the model has one).</summary>
    private void AddNoise(ReadOnlySpan<double> stats, ReadOnlySpan<double> w, Span<double> noise, Span<double> covariance)
    {
        var constant = engine.ConstantNoise;
        if (!constant.IsEmpty)
        {
            for (var c = 0; c < m; c++)
            {
                covariance[(c * m) + c] += constant[c];
            }

            return;
        }

        var count = w.Length;
        engine.NoiseVariances(stats, sources, count, noise, sources);
        var inverse = 1.0 / TensorPrimitives.Sum(w);
        for (var c = 0; c < m; c++)
        {
            var nc = noise.Slice(c * sources, count);
            var v = TensorPrimitives.Dot(w, nc);
            if (double.IsNaN(v))
            {
                v = 0.0;
                for (var j = 0; j < count; j++)
                {
                    if (w[j] > 0.0)
                    {
                        v += w[j] * nc[j];
                    }
                }
            }

            covariance[(c * m) + c] += v * inverse;
        }
    }

    private static double MaskedMax(ReadOnlySpan<double> logp, ReadOnlySpan<double> prior)
    {
        var max = double.NegativeInfinity;
        for (var j = 0; j < logp.Length; j++)
        {
            if (prior[j] > 0.0 && logp[j] > max)
            {
                max = logp[j];
            }
        }

        return max;
    }

    /// <summary>e ← exp(logp − max), weight = prior · e; returns Σ weight. One fused pass with the managed vector exp.</summary>
    private static double Weigh(ReadOnlySpan<double> logp, ReadOnlySpan<double> prior, Span<double> e, Span<double> weight, double max)
    {
        var count = logp.Length;
        ref var lr = ref MemoryMarshal.GetReference(logp);
        ref var pr = ref MemoryMarshal.GetReference(prior);
        ref var er = ref MemoryMarshal.GetReference(e);
        ref var wr = ref MemoryMarshal.GetReference(weight);
        var maxv = Vector256.Create(max);
        var sum0 = Vector256<double>.Zero;
        var sum1 = Vector256<double>.Zero;
        var j = 0;
        for (; j <= count - 8; j += 8)
        {
            var u = (nuint)j;
            var e0 = InlineMath.Exp(Vector256.LoadUnsafe(ref lr, u) - maxv);
            var e1 = InlineMath.Exp(Vector256.LoadUnsafe(ref lr, u + 4) - maxv);
            e0.StoreUnsafe(ref er, u);
            e1.StoreUnsafe(ref er, u + 4);
            var w0 = e0 * Vector256.LoadUnsafe(ref pr, u);
            var w1 = e1 * Vector256.LoadUnsafe(ref pr, u + 4);
            w0.StoreUnsafe(ref wr, u);
            w1.StoreUnsafe(ref wr, u + 4);
            sum0 += w0;
            sum1 += w1;
        }

        var total = Vector256.Sum(sum0 + sum1);
        for (; j < count; j++)
        {
            var ej = InlineMath.Exp(logp[j] - max);
            e[j] = ej;
            weight[j] = ej * prior[j];
            total += weight[j];
        }

        return total;
    }

    private static int ObservedCount(ReadOnlySpan<double> y)
    {
        var k = 0;
        foreach (var v in y)
        {
            if (double.IsFinite(v))
            {
                k++;
            }
        }

        return k;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HazardIndex(double duration) => duration > r + 1 ? r + 1 : (int)duration;

    /// <summary>Fills the hypotheses for the next observation from the stored posterior; returns their count.</summary>
    private int BuildSources(ReadOnlySpan<double> state, Span<double> srl, Span<double> sp, Span<double> sst)
    {
        var n = (int)state[CountSlot];
        var q = sources;
        var rl = state.Slice(runSlot, n);
        var p = state.Slice(probabilitySlot, n);
        if (adamsMacKay)
        {
            rl.CopyTo(srl);
            p.CopyTo(sp);
            for (var b = 0; b < statsLength; b++)
            {
                state.Slice(statsSlot + (b * capacity), n).CopyTo(sst.Slice(b * q, n));
            }

            return n;
        }

        // Changepoint form: every stored run either grows by one step or ends before y_t.
        var change = 0.0;
        TensorPrimitives.Add(rl, 1.0, srl.Slice(1, n));
        if (!double.IsNaN(constantHazard))
        {
            TensorPrimitives.Multiply(p, 1.0 - constantHazard, sp.Slice(1, n));
            change = constantHazard * TensorPrimitives.Sum(p);
        }
        else
        {
            for (var j = 0; j < n; j++)
            {
                var h = hazard[HazardIndex(rl[j] + 1)];
                sp[j + 1] = p[j] * (1.0 - h);
                change += p[j] * h;
            }
        }

        srl[0] = 0;
        sp[0] = n == 0 ? 1.0 : change;
        engine.WritePrior(sst, q, 0);
        for (var b = 0; b < statsLength; b++)
        {
            state.Slice(statsSlot + (b * capacity), n).CopyTo(sst.Slice((b * q) + 1, n));
        }

        return n + 1;
    }

    /// <summary>Segment statistics of entry j from the last <paramref name="window"/> steps in the ring buffer.</summary>
    private void Recompute(ReadOnlySpan<double> state, Span<double> stats, int cap, int j, int window)
    {
        engine.WritePrior(stats, cap, j);
        var head = (int)state[HeadSlot];
        for (var i = 0; i < window; i++)
        {
            var index = ((head - window + i) % ringLength + ringLength) % ringLength;
            engine.UpdateOne(stats, cap, j, state.Slice(ringSlot + (index * m), m));
        }
    }

    private (double Map, double Expected) StoreChangepoint(Span<double> state, ReadOnlySpan<double> srl, Span<double> alpha, ReadOnlySpan<double> sst, int nc, Span<double> keep)
    {
        var (map, expected, best) = Summaries(srl, alpha, nc);
        var rl = state.Slice(runSlot, capacity);
        var p = state.Slice(probabilitySlot, capacity);
        if (TensorPrimitives.Min(alpha[..nc]) >= threshold)
        {
            keep[..nc].Fill(1.0);
            TensorPrimitives.Multiply(alpha[..nc], 1.0 / TensorPrimitives.Sum(alpha[..nc]), alpha[..nc]);
            srl[..nc].CopyTo(rl);
            alpha[..nc].CopyTo(p);
            for (var b = 0; b < statsLength; b++)
            {
                sst.Slice(b * sources, nc).CopyTo(state.Slice(statsSlot + (b * capacity), nc));
            }

            state[CountSlot] = nc;
            return (map, expected);
        }

        var kept = 0.0;
        for (var j = 0; j < nc; j++)
        {
            var ok = alpha[j] >= threshold || j == best;
            keep[j] = ok ? 1.0 : 0.0;
            kept += ok ? alpha[j] : 0.0;
        }

        var scale = 1.0 / kept;
        var n = 0;
        for (var j = 0; j < nc; j++)
        {
            if (keep[j] == 0.0)
            {
                continue;
            }

            alpha[j] *= scale;
            rl[n] = srl[j];
            p[n] = alpha[j];
            n++;
        }

        for (var b = 0; b < statsLength; b++)
        {
            var from = sst.Slice(b * sources, nc);
            var to = state.Slice(statsSlot + (b * capacity), capacity);
            var i = 0;
            for (var j = 0; j < nc; j++)
            {
                if (keep[j] != 0.0)
                {
                    to[i++] = from[j];
                }
            }
        }

        state[CountSlot] = n;
        return (map, expected);
    }

    private (double Map, double Expected) StoreAdamsMacKay(Span<double> state, Span<double> srl, ReadOnlySpan<double> alpha, Span<double> sst, int nc, double zeroProbability, Span<double> work)
    {
        // Entries: 0 (a run ends after y_t; prior statistics) and c + 1 for every changepoint-form entry c.
        var count = nc + 1;
        var rl = work[..count];
        var p = work.Slice(sources, count);
        rl[0] = 0;
        p[0] = zeroProbability;
        TensorPrimitives.Add(srl[..nc], 1.0, rl[1..]);
        if (!double.IsNaN(constantHazard))
        {
            TensorPrimitives.Multiply(alpha[..nc], 1.0 - constantHazard, p[1..]);
        }
        else
        {
            for (var j = 0; j < nc; j++)
            {
                p[j + 1] = alpha[j] * (1.0 - hazard[HazardIndex(srl[j] + 1)]);
            }
        }

        // Cap: a run growing past R merges with the one at R; a lone capped run keeps only its last R steps.
        var recomputeLast = false;
        if (rl[count - 1] > r)
        {
            if (count >= 2 && rl[count - 2] == r)
            {
                p[count - 2] += p[count - 1];
                count--;
            }
            else
            {
                rl[count - 1] = r;
                recomputeLast = true;
            }
        }

        if (recomputeLast)
        {
            Recompute(state, sst, sources, count - 2, r);
        }

        var (map, expected, best) = Summaries(rl, p, count);
        var srun = state.Slice(runSlot, capacity);
        var sprob = state.Slice(probabilitySlot, capacity);
        if (TensorPrimitives.Min(p[..count]) >= threshold)
        {
            // Nothing to prune: block copies, the changepoint-form statistics shifted one place up.
            rl[..count].CopyTo(srun);
            TensorPrimitives.Multiply(p[..count], 1.0 / TensorPrimitives.Sum(p[..count]), sprob[..count]);
            engine.WritePrior(state.Slice(statsSlot, statsLength * capacity), capacity, 0);
            for (var b = 0; b < statsLength; b++)
            {
                sst.Slice(b * sources, count - 1).CopyTo(state.Slice(statsSlot + (b * capacity) + 1, count - 1));
            }

            state[CountSlot] = count;
            return (map, expected);
        }

        var kept = 0.0;
        for (var j = 0; j < count; j++)
        {
            if (p[j] >= threshold || j == best)
            {
                kept += p[j];
            }
        }

        var scale = 1.0 / kept;
        var n = 0;
        for (var j = 0; j < count; j++)
        {
            if (!(p[j] >= threshold || j == best))
            {
                continue;
            }

            srun[n] = rl[j];
            sprob[n] = p[j] * scale;
            if (j == 0)
            {
                engine.WritePrior(state.Slice(statsSlot, statsLength * capacity), capacity, n);
            }
            else
            {
                for (var b = 0; b < statsLength; b++)
                {
                    state[statsSlot + (b * capacity) + n] = sst[(b * sources) + j - 1];
                }
            }

            n++;
        }

        state[CountSlot] = n;
        return (map, expected);
    }

    private static (double Map, double Expected, int Best) Summaries(ReadOnlySpan<double> rl, ReadOnlySpan<double> p, int count)
    {
        // The first maximum, i.e. the smallest run length on ties (run lengths are increasing), and Σ r p, in one pass:
        // each lane keeps its first maximum, then the lanes are merged preferring the smaller index on ties.
        ref var pr = ref MemoryMarshal.GetReference(p);
        ref var rr = ref MemoryMarshal.GetReference(rl);
        var bestValue = Vector256.Create(double.NegativeInfinity);
        var bestIndex = Vector256<double>.Zero;
        var index = Vector256.Create(0.0, 1.0, 2.0, 3.0);
        var four = Vector256.Create(4.0);
        var dot = Vector256<double>.Zero;
        var j = 0;
        for (; j <= count - 4; j += 4)
        {
            var v = Vector256.LoadUnsafe(ref pr, (nuint)j);
            var greater = Vector256.GreaterThan(v, bestValue);
            bestValue = Vector256.ConditionalSelect(greater, v, bestValue);
            bestIndex = Vector256.ConditionalSelect(greater, index, bestIndex);
            dot += v * Vector256.LoadUnsafe(ref rr, (nuint)j);
            index += four;
        }

        var top = double.NegativeInfinity;
        var best = -1;
        for (var lane = 0; lane < 4; lane++)
        {
            var value = bestValue.GetElement(lane);
            var at = (int)bestIndex.GetElement(lane);
            if (value > top || (value == top && best >= 0 && at < best))
            {
                top = value;
                best = at;
            }
        }

        var expected = Vector256.Sum(dot);
        for (; j < count; j++)
        {
            if (p[j] > top)
            {
                top = p[j];
                best = j;
            }

            expected += rl[j] * p[j];
        }

        if (best < 0 || double.IsNaN(expected))
        {
            // No finite maximum (or a NaN somewhere): the library's definition.
            best = TensorPrimitives.IndexOfMax(p[..count]);
        }

        return (rl[best], expected, best);
    }

    /// <summary>
    /// Moments of a mixture whose components have independent coordinates: mean = Σ w μ, covariance =
    /// Σ w (μ − mean)(μ − mean)' + diag(Σ w v), with weights normalised by their sum.
    /// </summary>
    private void Mixture(ReadOnlySpan<double> w, ReadOnlySpan<double> means, ReadOnlySpan<double> variances, int momentCap, Span<double> mean, Span<double> covariance, Span<double> scratch)
    {
        var count = w.Length;
        if (m == 1)
        {
            UnivariateMixture(w, means[..count], variances[..count], mean, covariance);
            return;
        }

        var inverse = 1.0 / TensorPrimitives.Sum(w);
        for (var c = 0; c < m; c++)
        {
            mean[c] = TensorPrimitives.Dot(w, means.Slice(c * momentCap, count)) * inverse;
        }

        var dc = scratch[..count];
        var dd = m > 1 ? scratch.Slice(count, count) : dc;
        for (var c = 0; c < m; c++)
        {
            TensorPrimitives.Subtract(means.Slice(c * momentCap, count), mean[c], dc);
            for (var d = 0; d <= c; d++)
            {
                double second;
                if (d == c)
                {
                    TensorPrimitives.Multiply(dc, dc, dd);
                    second = TensorPrimitives.Dot(w, dd) + TensorPrimitives.Dot(w, variances.Slice(c * momentCap, count));
                    if (double.IsNaN(second))
                    {
                        second = GuardedVariance(w, dd, variances.Slice(c * momentCap, count));
                    }
                }
                else
                {
                    TensorPrimitives.Subtract(means.Slice(d * momentCap, count), mean[d], dd);
                    TensorPrimitives.Multiply(dc, dd, dd);
                    second = TensorPrimitives.Dot(w, dd);
                }

                second *= inverse;
                covariance[(c * m) + d] = second;
                covariance[(d * m) + c] = second;
            }
        }
    }

    /// <summary>
    /// <see cref="Mixture"/> for one component in two fused passes (Σw and Σwμ, then Σw(μ − mean)² and Σwv) instead
    /// of six; the same sums, accumulated in a different order.
    /// </summary>
    private static void UnivariateMixture(ReadOnlySpan<double> w, ReadOnlySpan<double> means, ReadOnlySpan<double> variances, Span<double> mean, Span<double> covariance)
    {
        var count = w.Length;
        ref var wr = ref MemoryMarshal.GetReference(w);
        ref var mr = ref MemoryMarshal.GetReference(means);
        ref var vr = ref MemoryMarshal.GetReference(variances);
        var sw = Vector256<double>.Zero;
        var swm = Vector256<double>.Zero;
        var j = 0;
        for (; j <= count - 4; j += 4)
        {
            var wv = Vector256.LoadUnsafe(ref wr, (nuint)j);
            sw += wv;
            swm += wv * Vector256.LoadUnsafe(ref mr, (nuint)j);
        }

        var totalWeight = Vector256.Sum(sw);
        var weightedMean = Vector256.Sum(swm);
        for (; j < count; j++)
        {
            totalWeight += w[j];
            weightedMean += w[j] * means[j];
        }

        var inverse = 1.0 / totalWeight;
        var mu = weightedMean * inverse;
        var muv = Vector256.Create(mu);
        var spread = Vector256<double>.Zero;
        var noise = Vector256<double>.Zero;
        j = 0;
        for (; j <= count - 4; j += 4)
        {
            var wv = Vector256.LoadUnsafe(ref wr, (nuint)j);
            var d = Vector256.LoadUnsafe(ref mr, (nuint)j) - muv;
            spread += wv * (d * d);
            noise += wv * Vector256.LoadUnsafe(ref vr, (nuint)j);
        }

        var second = Vector256.Sum(spread);
        var within = Vector256.Sum(noise);
        for (; j < count; j++)
        {
            var d = means[j] - mu;
            second += w[j] * (d * d);
            within += w[j] * variances[j];
        }

        second += within;
        if (double.IsNaN(second))
        {
            second = 0.0;
            for (j = 0; j < count; j++)
            {
                if (w[j] > 0.0)
                {
                    var d = means[j] - mu;
                    second += w[j] * ((d * d) + variances[j]);
                }
            }
        }

        mean[0] = mu;
        covariance[0] = second * inverse;
    }

    /// <summary>Σ w (d² + v) skipping zero weights, so an undefined (+∞) variance with no weight does not give NaN.</summary>
    private static double GuardedVariance(ReadOnlySpan<double> w, ReadOnlySpan<double> squares, ReadOnlySpan<double> variances)
    {
        var total = 0.0;
        for (var j = 0; j < w.Length; j++)
        {
            if (w[j] > 0.0)
            {
                total += w[j] * (squares[j] + variances[j]);
            }
        }

        return total;
    }

    private double InnovationSquared(ReadOnlySpan<double> y, int observed, Estimate estimate)
    {
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        if (m == 1)
        {
            var v = y[0] - om[0];
            return double.IsPositiveInfinity(oc[0]) ? 0.0 : v * v / oc[0];
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var l = arena.Take(observed * observed);
        var z = arena.Take(observed);
        var a = 0;
        var infinite = false;
        for (var i = 0; i < m; i++)
        {
            if (!double.IsFinite(y[i]))
            {
                continue;
            }

            z[a] = y[i] - om[i];
            var b = 0;
            for (var j = 0; j < m; j++)
            {
                if (double.IsFinite(y[j]))
                {
                    var s = oc[(i * m) + j];
                    infinite |= double.IsInfinity(s);
                    l[(a * observed) + b++] = s;
                }
            }

            a++;
        }

        var result = 0.0;
        if (!infinite && Dense.Cholesky(l, observed))
        {
            Dense.ForwardSubstitute(l, observed, z);
            foreach (var v in z)
            {
                result += v * v;
            }
        }
        else if (!infinite)
        {
            result = double.NaN;
        }

        arena.Release(mark);
        return result;
    }

    /// <summary>
    /// After a re-initialised step: true when the stream started again from the prior with the reading assimilated as
    /// a first step (its record is a first step's); false when it stayed at the prior (the next reading is the first).
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => state[StepsSlot] > 0.0;

    private void Reinitialize(Span<double> state, Estimate estimate)
    {
        Initialize(state, 0);
        estimate.Flags |= EstimateFlags.Reinitialized;
        estimate.LogLikelihood = double.NaN;
        estimate.NormalizedInnovationSquared = double.NaN;
        estimate.ObservedCount = 0;
        ReadState(state, estimate.StateMean, estimate.StateCovariance);
        var extras = estimate.Extras;
        extras[0] = 1.0;
        extras[1] = 0.0;
        extras[2] = 0.0;
        extras[3] = adamsMacKay ? 1.0 : 0.0;
    }

    // Record layout: [0] entries N, [1] hypotheses Q; then run lengths (C), probabilities (C), segment means (C·m),
    // segment variances (C·m); then the hypotheses of this step: run lengths (C+1) and relative predictive densities (C+1).
    private const int RecordRuns = 2;

    private int RecordProbabilities => 2 + capacity;

    private int RecordMeans => 2 + (2 * capacity);

    private int RecordVariances => 2 + ((2 + m) * capacity);

    private int RecordSourceRuns => 2 + ((2 + (2 * m)) * capacity);

    private int RecordSourceDensities => RecordSourceRuns + sources;

    private void WriteSources(Span<double> record, ReadOnlySpan<double> runs, ReadOnlySpan<double> densities)
    {
        record[1] = runs.Length;
        runs.CopyTo(record.Slice(RecordSourceRuns, runs.Length));
        densities.CopyTo(record.Slice(RecordSourceDensities, densities.Length));
    }

    private void WriteEntries(Span<double> record, ReadOnlySpan<double> runs, ReadOnlySpan<double> alpha, ReadOnlySpan<double> means, ReadOnlySpan<double> variances, int count, ReadOnlySpan<double> keep)
    {
        var n = 0;
        for (var j = 0; j < count; j++)
        {
            if (!keep.IsEmpty && keep[j] == 0.0)
            {
                continue;
            }

            record[RecordRuns + n] = runs[j];
            record[RecordProbabilities + n] = alpha[j];
            for (var c = 0; c < m; c++)
            {
                record[RecordMeans + (c * capacity) + n] = means[(c * sources) + j];
                record[RecordVariances + (c * capacity) + n] = variances[(c * sources) + j];
            }

            n++;
        }

        record[0] = n;
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var q = sources;
        var mc = q + 1;
        var srl = arena.Take(q);
        var sp = arena.Take(q);
        var sst = arena.Take(statsLength * q);
        var means = arena.Take(m * mc);
        var variances = arena.Take(m * mc);
        var predictiveVariances = arena.Take(m * mc);
        var weight = arena.Take(mc);
        var survival = arena.Take(q);
        var scratch = arena.Take(2 * mc);
        var ns = BuildSources(state, srl, sp, sst);

        // Entry ns is the prior (a segment not yet observed), for every change before the horizon.
        engine.PosteriorMoments(sst, q, ns, means, variances, mc);
        engine.NoiseVariances(sst, q, ns, predictiveVariances, mc);
        engine.NoiseVariances(priorStats, 1, 1, predictiveVariances[ns..], mc);
        for (var c = 0; c < m; c++)
        {
            means[(c * mc) + ns] = priorMean[c];
            variances[(c * mc) + ns] = priorVariance[c];
            var block = predictiveVariances.Slice(c * mc, ns + 1);
            TensorPrimitives.Add(block, variances.Slice(c * mc, ns + 1), block);
        }

        survival[..ns].Fill(1.0);
        for (var h = 1; h <= forecast.MaxHorizon; h++)
        {
            var rest = 1.0;
            for (var j = 0; j < ns; j++)
            {
                if (srl[j] == 0.0)
                {
                    weight[j] = 0.0;
                    continue;
                }

                if (h > 1)
                {
                    survival[j] *= 1.0 - hazard[HazardIndex(srl[j] + h - 1)];
                }

                weight[j] = sp[j] * survival[j];
                rest -= weight[j];
            }

            weight[ns] = Math.Max(rest, 0.0);
            Mixture(weight[..(ns + 1)], means, variances, mc, forecast.StateMeanAt(h), forecast.StateCovarianceAt(h), scratch);
            Mixture(weight[..(ns + 1)], means, predictiveVariances, mc, forecast.ObservationMeanAt(h), forecast.ObservationCovarianceAt(h), scratch);
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        state.Slice(meanSlot, m).CopyTo(mean);
        state.Slice(covSlot, m * m).CopyTo(covariance);
    }

    /// <summary>
    /// Writes the stored run-length posterior (the <see cref="Recursion"/> form, after pruning) in increasing run
    /// length and returns the number of hypotheses.
    /// </summary>
    public int ReadRunLengths(ReadOnlySpan<double> state, Span<int> runLengths, Span<double> probabilities)
    {
        var n = (int)state[CountSlot];
        for (var j = 0; j < n; j++)
        {
            runLengths[j] = (int)state[runSlot + j];
            probabilities[j] = state[probabilitySlot + j];
        }

        return n;
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        var n = (int)record[0];
        var beta = message[..capacity];
        var gamma = message.Slice(capacity, capacity * m);
        var second = message.Slice(capacity * (1 + m), capacity * m * m);
        for (var j = 0; j < n; j++)
        {
            beta[j] = 1.0;
            EntryMoments(record, j, gamma, second, j);
        }
    }

    /// <summary>
    /// γ = μ̂ and Γ = diag(v) of entry j's filtered segment posterior, written at slot <paramref name="target"/>. The
    /// message carries each entry's mean and covariance about that mean (not the raw second moment μ̂μ̂' + diag(v),
    /// which at readings near 1e8 with a spread of order one is near 1e16 and leaves no digit of the covariance).
    /// </summary>
    private void EntryMoments(ReadOnlySpan<double> record, int j, Span<double> gamma, Span<double> second, int target)
    {
        for (var c = 0; c < m; c++)
        {
            gamma[(target * m) + c] = record[RecordMeans + (c * capacity) + j];
            for (var d = 0; d < m; d++)
            {
                second[(target * m * m) + (c * m) + d] = c == d ? record[RecordVariances + (c * capacity) + j] : 0.0;
            }
        }
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        var n = (int)record[0];
        var nextCount = (int)nextRecord[0];
        var hypotheses = (int)nextRecord[1];
        var mm = m * m;
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var beta = arena.Take(n);
        var gamma = arena.Take(n * m);
        var second = arena.Take(n * mm);
        var mixed = arena.Take(m);
        var nextBeta = message[..capacity];
        var nextGamma = message.Slice(capacity, capacity * m);
        var nextSecond = message.Slice(capacity * (1 + m), capacity * mm);
        var nextRuns = nextRecord.Slice(RecordRuns, nextCount);
        var sourceRuns = nextRecord.Slice(RecordSourceRuns, hypotheses);
        var sourceDensities = nextRecord.Slice(RecordSourceDensities, hypotheses);

        // A change after step t leads to the hypothesis "new segment" (run 0) at t+1, then to entry 0 there.
        var changeDensity = hypotheses > 0 && sourceRuns[0] == 0.0 ? sourceDensities[0] : 0.0;
        var changeTarget = nextCount > 0 && nextRuns[0] == 0.0 ? 0 : -1;
        var changeBeta = changeTarget >= 0 ? changeDensity * nextBeta[0] : 0.0;

        var source = 0;
        var target = 0;
        var maxBeta = 0.0;
        for (var j = 0; j < n; j++)
        {
            var run = record[RecordRuns + j];
            var h = hazard[HazardIndex(run + 1)];
            var grown = adamsMacKay ? Math.Min(run + 1, r) : run + 1;
            while (source < hypotheses && sourceRuns[source] < grown)
            {
                source++;
            }

            var growBeta = 0.0;
            var to = -1;
            if (source < hypotheses && sourceRuns[source] == grown)
            {
                var landing = Math.Min(grown, r);
                while (target < nextCount && nextRuns[target] < landing)
                {
                    target++;
                }

                if (target < nextCount && nextRuns[target] == landing)
                {
                    to = target;
                    growBeta = (1.0 - h) * sourceDensities[source] * nextBeta[target];
                }
            }

            var endBeta = h * changeBeta;
            var b = growBeta + endBeta;
            beta[j] = b;
            maxBeta = Math.Max(maxBeta, b);
            EntryMoments(record, j, gamma, second, j);
            if (growBeta > 0.0)
            {
                // Continue: the segment is the one at t+1; end: it keeps its filtered posterior. The two-component
                // mixture's covariance is Σ f (Γ + (γ − mean)(γ − mean)'), each about the mixture's mean.
                var fg = growBeta / b;
                var fe = endBeta / b;
                if (fe > 0.0)
                {
                    for (var c = 0; c < m; c++)
                    {
                        mixed[c] = (fg * nextGamma[(to * m) + c]) + (fe * gamma[(j * m) + c]);
                    }

                    for (var c = 0; c < m; c++)
                    {
                        var gc = nextGamma[(to * m) + c] - mixed[c];
                        var ec = gamma[(j * m) + c] - mixed[c];
                        for (var d = 0; d < m; d++)
                        {
                            var gd = nextGamma[(to * m) + d] - mixed[d];
                            var ed = gamma[(j * m) + d] - mixed[d];
                            var i = (c * m) + d;
                            second[(j * mm) + i] = (fg * (nextSecond[(to * mm) + i] + (gc * gd))) + (fe * (second[(j * mm) + i] + (ec * ed)));
                        }
                    }

                    mixed.CopyTo(gamma.Slice(j * m, m));
                }
                else
                {
                    nextGamma.Slice(to * m, m).CopyTo(gamma.Slice(j * m, m));
                    nextSecond.Slice(to * mm, mm).CopyTo(second.Slice(j * mm, mm));
                }
            }
        }

        var scale = maxBeta > 0.0 ? 1.0 / maxBeta : 1.0;
        for (var j = 0; j < n; j++)
        {
            nextBeta[j] = beta[j] * scale;
        }

        gamma.CopyTo(nextGamma);
        second.CopyTo(nextSecond);
        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        var n = (int)record[0];
        var mm = m * m;
        var beta = message[..capacity];
        var gamma = message.Slice(capacity, capacity * m);
        var second = message.Slice(capacity * (1 + m), capacity * mm);
        var total = 0.0;
        for (var j = 0; j < n; j++)
        {
            total += record[RecordProbabilities + j] * beta[j];
        }

        mean[..m].Clear();
        covariance[..mm].Clear();
        for (var j = 0; j < n; j++)
        {
            var w = record[RecordProbabilities + j] * beta[j] / total;
            if (!(w > 0.0))
            {
                continue;
            }

            for (var c = 0; c < m; c++)
            {
                mean[c] += w * gamma[(j * m) + c];
            }
        }

        // Centred: Σ w (Γ_j + (γ_j − mean)(γ_j − mean)'), not Σ w (Γ_j + γ_j γ_j') − mean mean'.
        for (var j = 0; j < n; j++)
        {
            var w = record[RecordProbabilities + j] * beta[j] / total;
            if (!(w > 0.0))
            {
                continue;
            }

            for (var c = 0; c < m; c++)
            {
                var dc = gamma[(j * m) + c] - mean[c];
                for (var d = 0; d < m; d++)
                {
                    var i = (c * m) + d;
                    covariance[i] += w * (second[(j * mm) + i] + (dc * (gamma[(j * m) + d] - mean[d])));
                }
            }
        }
    }
}
