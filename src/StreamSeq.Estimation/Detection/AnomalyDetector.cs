using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Gaussian;

namespace StreamSeq.Estimation.Detection;

/// <summary>
/// An online anomaly detector for a scalar stream: a fixed-share mixture of robust state-space experts (a local level,
/// seasonal profiles for the periods the sampling interval allows, and the marginal density of all past values)
/// gives the predictive density of each value; its surprisal −log p(y_t | y_{1:t−1}) is turned into an anomaly score
/// in [0, 1] by its running tail probability.
/// </summary>
/// <remarks>
/// <para><b>Warm-up.</b> The first W = <see cref="AnomalyDetectorOptions.WarmupLength"/> observed values set the level
/// (their median), the noise variance S₀ = max(1.4826² MAD², floor) and the typical sampling interval Δ (the median
/// gap); they score 0.</para>
/// <para><b>Level expert</b> (a discount local-level Kalman filter with Student-t noise and a learned noise
/// variance, West &amp; Harrison's Normal-Gamma DLM): with level mean m, scale-free variance C and noise scale S,
/// a gap Δt gives the prior variance R = C δ_μ^(−Δt/Δ) and the predictive t_ν(m, S (R + 1)). The update weighs the
/// innovation e by w = (ν + 1)/(ν + e²/(S (R + 1))) (the Student-t scale-mixture weight, so outliers barely move the
/// state): K = R/(R + 1/w), m ← m + K e, C ← R (1 − K), n ← β n + 1 and S ← max((β n_prev S + w e²/(R + 1/w))/n, floor),
/// the floor being a quarter of the squared quantisation step (the smallest non-zero change seen).
/// Symbols: δ_μ = <see cref="AnomalyDetectorOptions.LevelDiscount"/>, β = <see cref="AnomalyDetectorOptions.VarianceDiscount"/>,
/// ν = <see cref="AnomalyDetectorOptions.ObservationDegreesOfFreedom"/>.</para>
/// <para><b>Seasonal experts</b>: for each period P of <see cref="AnomalyDetectorOptions.SeasonalPeriods"/> holding
/// between <see cref="AnomalyDetectorOptions.MinimumSeasonalBins"/> and <see cref="AnomalyDetectorOptions.MaximumSeasonalBins"/>
/// intervals Δ, a profile of B = round(P/Δ) phase bins, each a local level that moves by q_s
/// (<see cref="AnomalyDetectorOptions.SeasonalBinNoise"/>) per period and is updated by the same robust step
/// (see <c>SeasonalProfileExpert</c>). Daily and weekly periods are therefore chosen from the timestamps' spacing.</para>
/// <para><b>Marginal expert</b>: the density of all past values (a doubling histogram, Gaussian-kernel smoothed,
/// blended with a Cauchy base measure), so a value in a range never seen before is improbable whatever the dynamics.</para>
/// <para><b>Changepoint expert</b> (optional, off by default: it lowered the NAB development-half score, see
/// docs/nab-report.md): with <see cref="AnomalyDetectorOptions.ChangepointHazard"/> h &gt; 0, a
/// <see cref="BayesianChangepointDetector"/> (constant hazard h, Normal-Gamma segments with prior mean 0, κ₀ = 0.01,
/// α₀ = β₀ = 2, at most <see cref="AnomalyDetectorOptions.ChangepointMaxRunLength"/> steps per run) on the values
/// standardised by the warm-up median and scale; its run-length mixture predictive joins the mixture.</para>
/// <para><b>Combination</b>: a fixed-share mixture (Herbster &amp; Warmuth) with weights w_k:
/// p(y_t | y_{1:t−1}) = Σ_k w_k p_k(y_t), then w_k ← (1 − ε) w_k p_k(y_t)/Σ_j w_j p_j(y_t) + ε/K with
/// ε = <see cref="AnomalyDetectorOptions.SwitchingRate"/>. A value is surprising only when no expert explains it,
/// and the experts that predict well carry the weight.</para>
/// <para><b>Score</b>: the surprisal s_t = −ln p(y_t | y_{1:t−1}) (standardised by the warm-up scale) gets its tail
/// probability p_t = P(S ≥ s_t) under all past surprisals (see <c>SurprisalCalibrator</c>; exponential beyond the
/// largest), corrected for the size n of that history, q_t = p_t n^γ (γ = <see cref="AnomalyDetectorOptions.HistoryExponent"/>:
/// between a per-row p-value, γ = 0, and a record test, γ = 1). The raw score is clamp(0.5 − ln(q_t)/D, 0, 1) with
/// D = <see cref="AnomalyDetectorOptions.ScoreSpan"/>; a raw score that does not exceed the largest of the previous
/// L = <see cref="AnomalyDetectorOptions.SuppressionWindow"/> rows is multiplied by κ =
/// <see cref="AnomalyDetectorOptions.SuppressionFactor"/>, so one event raises one alarm. The score is 0 during the
/// warm-up and until <see cref="AnomalyDetectorOptions.CalibrationWarmup"/> surprisals have been seen.</para>
/// <para><b>Optional score designs</b> (off by default; both lost in cross-validation on NAB, docs/nab-report.md): with
/// <see cref="AnomalyDetectorOptions.TailModel"/> "exceedance" the tail is exponential above the (1 − f) quantile of
/// the surprisal history (see <c>SurprisalCalibrator</c>); with <see cref="AnomalyDetectorOptions.EvidenceWindow"/>
/// W &gt; 0 the Gaussian tail of the mean of the last W raw scores 1 − p_t against its long-run distribution (see
/// <c>EvidenceChannel</c>) joins the per-reading tail by Bonferroni: −ln q is taken from the smaller tail, doubled.</para>
/// <para><b>Smoothing.</b> The backward step smooths the level expert: the Rauch–Tung–Striebel step of a random-walk
/// level, Cov(h_{t−1}, h_t | y_{1:t−1}) = S C_{t−1}, with the filtered noise scale plugged in; warm-up rows carry
/// nothing back.</para>
/// <para><b>Outputs.</b> The reported state is the level expert's (mean m, variance S C); the observation moments are
/// the mixture's; LogLikelihood is ln p(y_t | y_{1:t−1}) of the mixture and NIS the squared innovation over the
/// mixture variance. Extras: <c>anomalyScore</c>, <c>surprisal</c> (nats, standardised), <c>tailProbability</c> (p_t)
/// and <c>expertWeights</c> (level, one per seasonal period, the changepoint expert when configured, marginal; 0 for
/// inactive experts).</para>
/// <para><b>Missing values and guard rails.</b> A missing or infinite value only advances the experts (the level's
/// variance grows, seasonal phases move on); it scores 0 with LogLikelihood NaN. A non-finite level state
/// re-initialises the level expert at the current value (<see cref="EstimateFlags.Reinitialized"/>); a broken
/// seasonal bin is forgotten. The state is a flat buffer (about 3 × MaximumSeasonalBins doubles per seasonal period
/// plus the two histograms), copied bit for bit to resume a stream; steps allocate nothing.</para>
/// </remarks>
public sealed class AnomalyDetector : IEstimator, IBackwardStep
{
    /// <summary>Family name in output records.</summary>
    public const string FamilyName = "anomaly-detector";

    [ThreadStatic]
    private static Dictionary<EstimatorInfo, Estimate>? innerEstimates;

    private readonly AnomalyDetectorOptions options;
    private readonly BayesianChangepointDetector? changepoint;
    private readonly DetectorLayout layout;
    private readonly StudentTDensity density;
    private readonly RobustSettings robust;
    private readonly double[] periods;
    private readonly double logLevelDiscount;
    private readonly int scoreOffset;
    private readonly int surprisalOffset;
    private readonly int tailOffset;
    private readonly int weightsOffset;

    /// <summary>Creates the detector.</summary>
    /// <exception cref="ModelValidationException">An option is out of range.</exception>
    public AnomalyDetector(AnomalyDetectorOptions? options = null)
    {
        this.options = options ?? AnomalyDetectorOptions.Default;
        this.options.Validate();
        if (this.options.ChangepointHazard > 0.0)
        {
            // Segments of the standardised series: mean and precision unknown, E[precision] = 1 a priori.
            changepoint = new BayesianChangepointDetector(
                new ConstantHazard(this.options.ChangepointHazard),
                new NormalGammaModel([0.0], [0.01], [2.0], [2.0]),
                this.options.ChangepointMaxRunLength,
                1e-8);
        }

        layout = new DetectorLayout(this.options, changepoint?.Info.StateLength ?? 0);
        density = new StudentTDensity(this.options.ObservationDegreesOfFreedom);
        periods = [.. this.options.SeasonalPeriods];
        logLevelDiscount = Math.Log(this.options.LevelDiscount);
        robust = new RobustSettings(
            this.options.ObservationDegreesOfFreedom,
            this.options.VarianceDiscount,
            this.options.InitialBinVariance,
            this.options.SeasonalBinNoise);
        Info = new EstimatorInfo
        {
            Family = FamilyName,
            StateDimension = 1,
            ObservationDimension = 1,
            StateLength = layout.Length,
            BackwardRecordLength = GaussianBackward.RecordLength(1),
            SmoothingMessageLength = GaussianBackward.MessageLength(1),
            UsesTimeGap = true,
            Extras =
            [
                new ExtraField("anomalyScore"),
                new ExtraField("surprisal"),
                new ExtraField("tailProbability"),
                new ExtraField("expertWeights", layout.Experts),
            ],
        };
        scoreOffset = Info.ExtraOffset("anomalyScore");
        surprisalOffset = Info.ExtraOffset("surprisal");
        tailOffset = Info.ExtraOffset("tailProbability");
        weightsOffset = Info.ExtraOffset("expertWeights");
    }

    /// <summary>The settings.</summary>
    public AnomalyDetectorOptions Options => options;

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        state = state[..layout.Length];
        state.Clear();
        state[DetectorLayout.Quantum] = double.PositiveInfinity;
        state[DetectorLayout.PreviousValue] = double.NaN;
        state[DetectorLayout.NominalGap] = 1.0;
        state[DetectorLayout.LevelVariance] = options.InitialLevelVariance;
        state[DetectorLayout.LevelScale] = 1.0;
        state[DetectorLayout.LevelDof] = options.InitialVarianceDegreesOfFreedom;
    }

    /// <summary>The anomaly score of the last step in <paramref name="estimate"/>.</summary>
    public double AnomalyScore(Estimate estimate)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        return estimate.Extras[scoreOffset];
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        estimate.Reset();
        var extras = estimate.Extras;
        extras[scoreOffset] = 0.0;
        extras[surprisalOffset] = 0.0;
        extras[tailOffset] = 1.0;
        var y = observation.Values.IsEmpty ? double.NaN : observation.Values[0];
        var observed = double.IsFinite(y);
        var gap = observation.TimeGap;
        if (!double.IsFinite(gap) || gap < 0.0)
        {
            gap = 0.0;
        }

        state[DetectorLayout.Rows] += 1.0;
        if (observed)
        {
            var previous = state[DetectorLayout.PreviousValue];
            if (double.IsFinite(previous) && y != previous)
            {
                state[DetectorLayout.Quantum] = Math.Min(state[DetectorLayout.Quantum], Math.Abs(y - previous));
            }

            state[DetectorLayout.PreviousValue] = y;
        }

        var wasReady = state[DetectorLayout.Ready] != 0.0;
        var previousVariance = state[DetectorLayout.LevelScale] * state[DetectorLayout.LevelVariance];
        if (!wasReady)
        {
            WarmUp(state, y, observed, gap, estimate);
        }
        else
        {
            Detect(state, y, observed, gap, estimate);
        }

        if (!backwardRecord.IsEmpty)
        {
            // The level is a random walk: Cov(h_{t-1}, h_t | y_{1:t-1}) = Var(h_{t-1} | y_{1:t-1}). Before the model
            // exists (warm-up, and the step that builds it) there is nothing to carry back.
            Span<double> cross = [wasReady ? previousVariance : 0.0];
            GaussianBackward.WriteRecord(1, backwardRecord, estimate.StateMean, estimate.StateCovariance, estimate.PredictedMean, estimate.PredictedCovariance, cross);
        }
    }

    private void WarmUp(Span<double> state, double y, bool observed, double gap, Estimate estimate)
    {
        var w = layout.Warmup;
        var count = (int)state[DetectorLayout.WarmCount];
        var gaps = (int)state[DetectorLayout.GapCount];
        if (gap > 0.0 && gaps < w && state[DetectorLayout.Rows] > 1.0)
        {
            state[layout.WarmGaps + gaps] = gap;
            state[DetectorLayout.GapCount] = gaps + 1;
        }

        if (observed)
        {
            state[layout.WarmValues + count] = y;
            count++;
            state[DetectorLayout.WarmCount] = count;
        }

        if (count < w)
        {
            WriteWarmupEstimate(state, observed, estimate);
            return;
        }

        // Warm-up complete: set the level, the scale, the sampling interval and the experts.
        Span<double> sorted = stackalloc double[w];
        state.Slice(layout.WarmValues, w).CopyTo(sorted);
        sorted.Sort();
        var median = sorted[w / 2];
        var (minimum, maximum) = (sorted[0], sorted[w - 1]);
        for (var i = 0; i < w; i++)
        {
            sorted[i] = Math.Abs(sorted[i] - median);
        }

        sorted.Sort();
        var mad = sorted[w / 2];
        gaps = (int)state[DetectorLayout.GapCount];
        var nominal = 1.0;
        if (gaps > 0)
        {
            Span<double> g = stackalloc double[gaps];
            state.Slice(layout.WarmGaps, gaps).CopyTo(g);
            g.Sort();
            nominal = g[gaps / 2];
        }

        var s0 = Math.Clamp(Math.Max(2.2 * mad * mad, Floor(state, median)), 1e-300, 1e300);
        state[DetectorLayout.NominalGap] = nominal;
        state[DetectorLayout.ReferenceLogScale] = 0.5 * Math.Log(s0);
        state[DetectorLayout.ReferenceLevel] = median;
        state[DetectorLayout.LevelMean] = median;
        state[DetectorLayout.LevelVariance] = options.InitialLevelVariance;
        state[DetectorLayout.LevelScale] = s0;
        state[DetectorLayout.LevelDof] = options.InitialVarianceDegreesOfFreedom;
        var active = 1;
        for (var k = 0; k < periods.Length; k++)
        {
            if (SeasonalProfileExpert.Initialize(state.Slice(layout.Season(k), layout.SeasonStride), layout.MaxBins, periods[k], nominal, options.MinimumSeasonalBins, s0, options.InitialVarianceDegreesOfFreedom))
            {
                active++;
            }
        }

        active++; // the marginal expert
        if (changepoint is not null)
        {
            active++;
        }
        var weights = state.Slice(layout.Weights, layout.Experts);
        weights.Clear();
        weights[0] = 1.0 / active;
        for (var k = 0; k < periods.Length; k++)
        {
            weights[1 + k] = SeasonalProfileExpert.IsActive(state.Slice(layout.Season(k), layout.SeasonStride)) ? 1.0 / active : 0.0;
        }

        weights[layout.Experts - 1] = 1.0 / active;
        var marginal = state.Slice(layout.Marginal, DetectorLayout.MarginalHeaderLength + layout.MarginalBins);
        MarginalDensity.Initialize(marginal, layout.MarginalBins, minimum, maximum);
        for (var i = 0; i < w; i++)
        {
            MarginalDensity.Add(marginal, layout.MarginalBins, state[layout.WarmValues + i]);
        }

        SurprisalCalibrator.Initialize(state.Slice(layout.Calibration, layout.CalibrationLength), layout.CalibrationBins, layout.CalibrationTrees);
        if (layout.EvidenceWindow > 0)
        {
            EvidenceChannel.Initialize(state[layout.Evidence..], layout.EvidenceWindow);
        }

        state.Slice(layout.Suppression, 1 + layout.SuppressionWindow).Clear();
        if (changepoint is not null)
        {
            var cp = state.Slice(layout.Changepoint, layout.ChangepointStateLength);
            changepoint.Initialize(cp, 0);
            var inner = InnerEstimate();
            Span<double> z = stackalloc double[1];
            for (var i = 0; i < w; i++)
            {
                z[0] = Standardize(state, state[layout.WarmValues + i]);
                changepoint.Step(cp, new Observation(z), inner, default);
            }

            weights[layout.ChangepointExpert] = 1.0 / active;
        }

        state[DetectorLayout.Ready] = 1.0;
        WriteWarmupEstimate(state, observed, estimate);
    }

    private static double Standardize(ReadOnlySpan<double> state, double y) =>
        (y - state[DetectorLayout.ReferenceLevel]) * Math.Exp(-state[DetectorLayout.ReferenceLogScale]);

    private Estimate InnerEstimate()
    {
        var cache = innerEstimates ??= [];
        var info = changepoint!.Info;
        if (!cache.TryGetValue(info, out var e))
        {
            e = new Estimate(info);
            cache[info] = e;
        }

        return e;
    }

    private void WriteWarmupEstimate(ReadOnlySpan<double> state, bool observed, Estimate estimate)
    {
        // During the warm-up the detector has no model yet: report the running level guess with a vague variance.
        var count = (int)state[DetectorLayout.WarmCount];
        var mean = count > 0 ? state[layout.WarmValues + count - 1] : 0.0;
        if (state[DetectorLayout.Ready] != 0.0)
        {
            mean = state[DetectorLayout.LevelMean];
        }

        var variance = state[DetectorLayout.Ready] != 0.0
            ? state[DetectorLayout.LevelScale] * state[DetectorLayout.LevelVariance]
            : 1e300;
        estimate.PredictedMean[0] = mean;
        estimate.PredictedCovariance[0] = variance;
        estimate.ObservationMean[0] = mean;
        estimate.ObservationCovariance[0] = variance;
        estimate.StateMean[0] = mean;
        estimate.StateCovariance[0] = variance;
        estimate.ObservedCount = observed ? 1 : 0;
        WriteWeights(state, estimate);
    }

    private void Detect(Span<double> state, double y, bool observed, double gap, Estimate estimate)
    {
        var steps = gap / state[DetectorLayout.NominalGap];
        var m = state[DetectorLayout.LevelMean];
        var scale = state[DetectorLayout.LevelScale];
        var prior = LevelPrior(state[DetectorLayout.LevelVariance], steps);
        var levelScaleSquared = scale * (prior + 1.0);
        estimate.PredictedMean[0] = m;
        estimate.PredictedCovariance[0] = scale * prior;

        // Experts' predictives at y_t (seasonal phases advance here, observed or not).
        var experts = layout.Experts;
        Span<double> means = stackalloc double[experts];
        Span<double> scales = stackalloc double[experts];
        Span<double> priors = stackalloc double[experts];
        Span<int> bins = stackalloc int[experts];
        Span<bool> ready = stackalloc bool[experts];
        means[0] = m;
        scales[0] = levelScaleSquared;
        ready[0] = true;
        for (var k = 0; k < periods.Length; k++)
        {
            var season = state.Slice(layout.Season(k), layout.SeasonStride);
            if (!SeasonalProfileExpert.IsActive(season))
            {
                continue;
            }

            var bin = SeasonalProfileExpert.Advance(season, periods[k], gap);
            bins[1 + k] = bin;
            ready[1 + k] = SeasonalProfileExpert.Predict(season, layout.MaxBins, bin, periods[k], options.SeasonalBinNoise, 0.0, out means[1 + k], out scales[1 + k], out priors[1 + k]);
        }

        var changepointLog = double.NaN;
        if (changepoint is not null)
        {
            // The changepoint expert predicts and assimilates in one step (its update does not depend on the mixture).
            var inner = InnerEstimate();
            Span<double> z = stackalloc double[1];
            z[0] = observed ? Standardize(state, y) : double.NaN;
            changepoint.Step(state.Slice(layout.Changepoint, layout.ChangepointStateLength), new Observation(z, gap), inner, default);
            var c = layout.ChangepointExpert;
            var unit = Math.Exp(state[DetectorLayout.ReferenceLogScale]);
            means[c] = state[DetectorLayout.ReferenceLevel] + (unit * inner.ObservationMean[0]);
            scales[c] = unit * unit * inner.ObservationCovariance[0];
            ready[c] = true;
            changepointLog = inner.LogLikelihood - state[DetectorLayout.ReferenceLogScale];
        }

        var marginal = state.Slice(layout.Marginal, DetectorLayout.MarginalHeaderLength + layout.MarginalBins);
        var weights = state.Slice(layout.Weights, experts);
        WriteObservationMoments(weights, means, scales, ready, marginal, estimate);
        if (!observed)
        {
            state[DetectorLayout.LevelVariance] = prior;
            estimate.StateMean[0] = m;
            estimate.StateCovariance[0] = scale * prior;
            WriteWeights(state, estimate);
            return;
        }

        // Mixture density and the fixed-share weight update.
        Span<double> logDensities = stackalloc double[experts];
        var levelLog = density.Log(y, m, levelScaleSquared);
        logDensities[0] = levelLog;
        for (var k = 1; k <= periods.Length; k++)
        {
            logDensities[k] = ready[k] ? density.Log(y, means[k], scales[k]) : levelLog;
        }

        if (changepoint is not null)
        {
            logDensities[layout.ChangepointExpert] = changepointLog;
        }

        logDensities[experts - 1] = MarginalDensity.LogDensity(marginal, layout.MarginalBins, y, options.MarginalPriorWeight, options.MarginalBandwidthFactor);
        var peak = double.NegativeInfinity;
        var active = 0;
        for (var k = 0; k < experts; k++)
        {
            if (double.IsNaN(logDensities[k]))
            {
                logDensities[k] = double.NegativeInfinity;
            }

            if (weights[k] > 0.0)
            {
                active++;
                peak = Math.Max(peak, logDensities[k]);
            }
        }

        double logLikelihood;
        if (double.IsNegativeInfinity(peak) || double.IsPositiveInfinity(peak))
        {
            // No expert gives the value a usable density: the weights stay as they are.
            logLikelihood = peak;
        }
        else
        {
            Span<double> shares = stackalloc double[experts];
            var mixture = 0.0;
            for (var k = 0; k < experts; k++)
            {
                shares[k] = weights[k] > 0.0 ? weights[k] * Math.Exp(logDensities[k] - peak) : 0.0;
                mixture += shares[k];
            }

            logLikelihood = Math.Log(mixture) + peak;
            var eps = options.SwitchingRate;
            for (var k = 0; k < experts; k++)
            {
                if (weights[k] > 0.0)
                {
                    weights[k] = ((1.0 - eps) * shares[k] / mixture) + (eps / active);
                }
            }
        }

        estimate.LogLikelihood = logLikelihood;
        var innovation = y - estimate.ObservationMean[0];
        estimate.NormalizedInnovationSquared = innovation * innovation / estimate.ObservationCovariance[0];
        estimate.ObservedCount = 1;

        // Expert updates.
        var floor = Floor(state, m);
        var (mean, variance, newScale, newDof) = RobustUpdate(m, prior, scale, state[DetectorLayout.LevelDof], y, robust, floor);
        if (!double.IsFinite(mean) || !double.IsFinite(variance) || !double.IsFinite(newScale))
        {
            mean = y;
            variance = options.InitialLevelVariance;
            newScale = Math.Exp(2.0 * state[DetectorLayout.ReferenceLogScale]);
            newDof = options.InitialVarianceDegreesOfFreedom;
            estimate.Flags |= EstimateFlags.Reinitialized;
        }

        state[DetectorLayout.LevelMean] = mean;
        state[DetectorLayout.LevelVariance] = variance;
        state[DetectorLayout.LevelScale] = newScale;
        state[DetectorLayout.LevelDof] = newDof;
        estimate.StateMean[0] = mean;
        estimate.StateCovariance[0] = newScale * variance;
        var seasonFloor = Floor(state, mean);
        for (var k = 0; k < periods.Length; k++)
        {
            var season = state.Slice(layout.Season(k), layout.SeasonStride);
            if (SeasonalProfileExpert.IsActive(season))
            {
                SeasonalProfileExpert.Update(season, layout.MaxBins, bins[1 + k], y, periods[k], robust, seasonFloor);
            }
        }

        MarginalDensity.Add(marginal, layout.MarginalBins, y);

        // Surprisal, its tail probability and the score (a surprisal that is not a number cannot be ranked: score 0).
        var surprisal = -logLikelihood + state[DetectorLayout.ReferenceLogScale];
        if (double.IsNaN(surprisal))
        {
            estimate.LogLikelihood = double.NaN;
            estimate.NormalizedInnovationSquared = double.NaN;
            estimate.Flags |= EstimateFlags.ObservationSkipped;
            WriteWeights(state, estimate);
            return;
        }

        surprisal = Math.Clamp(surprisal, options.CalibrationMinimum - 1e6, options.CalibrationMaximum + 1e6);
        var calibration = state.Slice(layout.Calibration, layout.CalibrationLength);
        var haveHistory = SurprisalCalibrator.Seen(calibration) >= options.CalibrationWarmup;
        var logTail = !haveHistory ? 0.0
            : layout.CalibrationTrees > 1
                ? SurprisalCalibrator.LogExceedanceTail(calibration, layout.CalibrationBins, options.CalibrationMinimum, options.CalibrationResolution, options.TailFraction, options.MinimumTailScale, surprisal)
                : SurprisalCalibrator.LogTail(calibration, layout.CalibrationBins, options.CalibrationMinimum, options.CalibrationResolution, options.TailFraction, options.MinimumTailScale, surprisal);
        SurprisalCalibrator.Add(calibration, layout.CalibrationBins, options.CalibrationMinimum, options.CalibrationResolution, surprisal, layout.CalibrationTrees);
        var raw = 0.0;
        if (haveHistory)
        {
            var n = SurprisalCalibrator.Seen(calibration);
            var nats = Math.Max(0.0, -logTail);
            if (layout.EvidenceWindow > 0)
            {
                // Bonferroni over the two tests: the smaller tail probability, doubled.
                var evidence = -EvidenceChannel.Add(state[layout.Evidence..], layout.EvidenceWindow, -double.ExpM1(logTail));
                nats = Math.Max(nats, evidence) - Math.Log(2.0);
            }

            var corrected = nats - (options.HistoryExponent * Math.Log(n));
            raw = Math.Clamp(0.5 + (corrected / options.ScoreSpan), 0.0, 1.0);
        }

        var extras = estimate.Extras;
        extras[scoreOffset] = Suppress(state, raw);
        extras[surprisalOffset] = surprisal;
        extras[tailOffset] = Math.Exp(logTail);
        WriteWeights(state, estimate);
    }

    /// <summary>R = C δ_μ^(−steps), kept within [1e-12, 1e300] so a huge gap or a collapsed variance cannot poison the state.</summary>
    private double LevelPrior(double variance, double steps) =>
        Math.Clamp(variance * Math.Exp(Math.Min(-logLevelDiscount * steps, 690.0)), 1e-12, 1e300);

    private double Suppress(Span<double> state, double raw)
    {
        var window = layout.SuppressionWindow;
        if (window == 0)
        {
            return raw;
        }

        var ring = state.Slice(layout.Suppression + 1, window);
        var largest = 0.0;
        foreach (var v in ring)
        {
            largest = Math.Max(largest, v);
        }

        var position = (int)state[layout.Suppression];
        ring[position] = raw;
        state[layout.Suppression] = (position + 1) % window;
        return raw <= largest ? raw * options.SuppressionFactor : raw;
    }

    private void WriteObservationMoments(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> scales, ReadOnlySpan<bool> ready, ReadOnlySpan<double> marginal, Estimate estimate)
    {
        var (mean, variance) = MixtureMoments(weights, means, scales, ready, marginal);
        estimate.ObservationMean[0] = mean;
        estimate.ObservationCovariance[0] = variance;
    }

    /// <summary>Mean and variance of the expert mixture (an expert without an opinion stands in with the level's moments).</summary>
    private (double Mean, double Variance) MixtureMoments(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> scales, ReadOnlySpan<bool> ready, ReadOnlySpan<double> marginal)
    {
        var experts = layout.Experts;
        Span<double> m = stackalloc double[experts];
        Span<double> v = stackalloc double[experts];
        double total = 0.0, first = 0.0;
        for (var k = 0; k < experts; k++)
        {
            if (!(weights[k] > 0.0))
            {
                continue;
            }

            if (k == experts - 1)
            {
                (m[k], v[k]) = MarginalDensity.Moments(marginal, layout.MarginalBins);
            }
            else
            {
                var j = ready[k] ? k : 0;
                m[k] = means[j];
                v[k] = k == layout.ChangepointExpert && ready[k] ? scales[k] : density.Variance(scales[j]);
            }

            total += weights[k];
            first += weights[k] * m[k];
        }

        var mean = first / total;
        if (!double.IsFinite(mean))
        {
            return (means[0], double.MaxValue);
        }

        var second = 0.0;
        for (var k = 0; k < experts; k++)
        {
            if (weights[k] > 0.0)
            {
                var d = m[k] - mean;
                second += weights[k] * (v[k] + (d * d));
            }
        }

        var variance = second / total;
        return (mean, double.IsNaN(variance) ? double.MaxValue : Math.Clamp(variance, double.Epsilon, double.MaxValue));
    }

    private void WriteWeights(ReadOnlySpan<double> state, Estimate estimate) =>
        state.Slice(layout.Weights, layout.Experts).CopyTo(estimate.Extras.AsSpan(weightsOffset, layout.Experts));

    private double Floor(ReadOnlySpan<double> state, double level)
    {
        var quantum = state[DetectorLayout.Quantum];
        var q = double.IsFinite(quantum) ? quantum : 0.0;
        return Math.Max(options.QuantizationFloor * q * q, 1e-12 * (1.0 + (level * level)));
    }

    /// <inheritdoc />
    /// <remarks>Forecasts are the mixture's moments at each horizon with the current weights: the level expert's
    /// random walk, each seasonal expert's bin at the future phase, and the marginal moments.</remarks>
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var ready = state[DetectorLayout.Ready] != 0.0;
        var m = ready ? state[DetectorLayout.LevelMean] : (state[DetectorLayout.WarmCount] > 0 ? state[layout.WarmValues + (int)state[DetectorLayout.WarmCount] - 1] : 0.0);
        var scale = state[DetectorLayout.LevelScale];
        var c = state[DetectorLayout.LevelVariance];
        var nominal = state[DetectorLayout.NominalGap];
        var experts = layout.Experts;
        var weights = state.Slice(layout.Weights, experts);
        var marginal = state.Slice(layout.Marginal, DetectorLayout.MarginalHeaderLength + layout.MarginalBins);
        Span<double> means = stackalloc double[experts];
        Span<double> scales = stackalloc double[experts];
        Span<bool> have = stackalloc bool[experts];
        for (var h = 1; h <= forecast.MaxHorizon; h++)
        {
            var ahead = h * stepGap;
            var prior = LevelPrior(c, ahead / nominal);
            var levelVariance = ready ? scale * prior : 1e300;
            forecast.StateMeanAt(h)[0] = m;
            forecast.StateCovarianceAt(h)[0] = levelVariance;
            if (!ready)
            {
                forecast.ObservationMeanAt(h)[0] = m;
                forecast.ObservationCovarianceAt(h)[0] = levelVariance;
                continue;
            }

            means[0] = m;
            scales[0] = scale * (prior + 1.0);
            have[0] = true;
            for (var k = 0; k < periods.Length; k++)
            {
                var season = state.Slice(layout.Season(k), layout.SeasonStride);
                have[1 + k] = false;
                if (!SeasonalProfileExpert.IsActive(season))
                {
                    continue;
                }

                var bins = (int)season[DetectorLayout.SeasonBins];
                var phase = (season[DetectorLayout.SeasonPhase] + ahead) % periods[k];
                var bin = Math.Min((int)((phase / season[DetectorLayout.SeasonBinWidth]) + 0.5) % bins, bins - 1);
                have[1 + k] = SeasonalProfileExpert.Predict(season, layout.MaxBins, bin, periods[k], options.SeasonalBinNoise, ahead, out means[1 + k], out scales[1 + k], out _);
            }

            var (mixtureMean, mixtureVariance) = MixtureMoments(weights, means, scales, have, marginal);
            forecast.ObservationMeanAt(h)[0] = mixtureMean;
            forecast.ObservationCovarianceAt(h)[0] = mixtureVariance;
        }
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        if (state[DetectorLayout.Ready] == 0.0)
        {
            var count = (int)state[DetectorLayout.WarmCount];
            mean[0] = count > 0 ? state[layout.WarmValues + count - 1] : 0.0;
            covariance[0] = 1e300;
            return;
        }

        mean[0] = state[DetectorLayout.LevelMean];
        covariance[0] = state[DetectorLayout.LevelScale] * state[DetectorLayout.LevelVariance];
    }

    /// <inheritdoc />
    /// <remarks>Smoothing covers the level expert: the Rauch–Tung–Striebel step for a random-walk level with the
    /// filtered noise scale plugged in.</remarks>
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        record[..GaussianBackward.MessageLength(1)].CopyTo(message);
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        GaussianBackward.Step(1, record, nextRecord, message);
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        mean[0] = message[0];
        covariance[0] = message[1];
    }

    /// <summary>
    /// One robust scalar Kalman step with a learned noise scale: prior mean <paramref name="mean"/>, scale-free prior
    /// variance <paramref name="prior"/>, noise scale S = <paramref name="scale"/> with <paramref name="dof"/> degrees of
    /// freedom. Returns the posterior mean, scale-free variance, noise scale and degrees of freedom.
    /// </summary>
    internal static (double Mean, double Variance, double Scale, double Dof) RobustUpdate(double mean, double prior, double scale, double dof, double y, in RobustSettings settings, double floor)
    {
        var e = y - mean;
        var predictive = scale * (prior + 1.0);
        var weight = (settings.DegreesOfFreedom + 1.0) / (settings.DegreesOfFreedom + (e * e / predictive));
        var weighted = prior + (1.0 / weight);
        var gain = prior / weighted;
        var newDof = (settings.VarianceDiscount * dof) + 1.0;
        var evidence = (settings.VarianceDiscount * dof * scale) + (weight > 0.0 ? weight * e * e / weighted : 0.0);
        return (mean + (gain * e), prior * (1.0 - gain), Math.Max(evidence / newDof, floor), newDof);
    }

    /// <summary>Settings the robust expert updates share.</summary>
    internal readonly record struct RobustSettings(double DegreesOfFreedom, double VarianceDiscount, double InitialBinVariance, double BinNoise);
}
