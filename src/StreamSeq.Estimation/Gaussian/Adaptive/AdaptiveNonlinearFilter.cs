using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Numerics;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>
/// An extended or unscented Kalman filter whose streams each learn their observation noise online by variational Bayes
/// (Särkkä and Hartikainen 2013, the nonlinear form of Särkkä and Nummenmaa 2009): every observed variance r_i has an
/// inverse-gamma posterior IG(α_i, β_i), stored in the stream's state.
/// </summary>
/// <remarks>
/// <para>Per reading, for the observed components: α⁻ = λα, β⁻ = λβ; α = α⁻ + ½; then N times: the filter's update with
/// r_i = β_i/α_i (β starting at β⁻), followed by β_i = β⁻_i + ½ E[(y_i − h_i(x))²] under the filtered state, which
/// the filter computes in its own approximation (the EKF linearises h at the filtered mean, the UKF uses its sigma
/// points). The predictive moments, log-likelihood and NIS use β/α of the previous reading. The outlier gate and the
/// rejection of isolated outliers are those of <see cref="AdaptiveKalmanFilter"/>. The transition noise is not
/// learned by these filters.</para>
/// </remarks>
public sealed class AdaptiveNonlinearFilter : IEstimator, IBackwardStep, IParameterLearner, IRestartRecords
{
    private readonly IObservationNoiseOverride inner;
    private readonly AdaptationSettings settings;
    private readonly int n;
    private readonly int m;
    private readonly int innerLength;
    private readonly int alphaSlot;
    private readonly int betaSlot;
    private readonly int memorySlot;
    private readonly double lambda;
    private readonly double gateSquared;
    private readonly double[] modelNoise;
    private readonly bool scalarField;

    /// <summary>Creates the filter.</summary>
    /// <param name="inner">The extended or unscented filter of the model.</param>
    /// <param name="settings">Forgetting, gate and iterations.</param>
    /// <param name="name">The spec path of the learned noise (<c>model.observationNoise</c>).</param>
    /// <param name="scalarField">True when the spec field is a number (one observed component).</param>
    internal AdaptiveNonlinearFilter(IObservationNoiseOverride inner, AdaptationSettings settings, string name, bool scalarField)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(settings);
        this.inner = inner;
        this.settings = settings;
        var info = inner.Info;
        n = info.StateDimension;
        m = info.ObservationDimension;
        modelNoise = inner.Model.ObservationNoise.ToArray();
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                if (i != j && modelNoise[(i * m) + j] != 0.0)
                {
                    throw new ModelValidationException("adapt[0]", $"{name} has [{i}][{j}] = {modelNoise[(i * m) + j]}; learning it online needs a diagonal matrix (each variance is learned on its own).");
                }
            }

            if (!(modelNoise[(i * m) + i] > 0.0))
            {
                throw new ModelValidationException("adapt[0]", $"{name}[{i}][{i}] is 0; a variance learned online must start positive.");
            }
        }

        this.scalarField = scalarField && m == 1;
        innerLength = info.StateLength;
        alphaSlot = 1;
        betaSlot = alphaSlot + m;
        memorySlot = betaSlot + m;
        lambda = settings.Forgetting;
        gateSquared = settings.GateSquared;
        Info = new EstimatorInfo
        {
            Family = info.Family,
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = info.ControlDimension,
            StateLength = innerLength + memorySlot + m,
            BackwardRecordLength = info.BackwardRecordLength,
            SmoothingMessageLength = info.SmoothingMessageLength,
            UsesTimeGap = info.UsesTimeGap,
            Parameters = [this.scalarField ? new LearnedParameter(name, 0, 0, "variational-bayes") : new LearnedParameter(name, m, m, "variational-bayes")],
        };
    }

    /// <summary>The one parameter these filters learn, as <c>adapt</c> and <c>fit --fit</c> name it.</summary>
    public const string LearnableName = "model.observationNoise";

    /// <summary>
    /// Reads <c>adapt</c> and <c>adaptation</c> of an <c>extended-kalman</c> or <c>unscented-kalman</c> spec: without
    /// <c>adapt</c> the filter itself, else the filter wrapped so that every stream learns its observation noise.
    /// </summary>
    /// <param name="spec">The kind's reader.</param>
    /// <param name="inner">The filter built from the spec's model.</param>
    internal static IEstimator Wrap(SpecReader spec, IObservationNoiseOverride inner)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(inner);
        var adapt = spec.OptionalStrings("adapt");
        if (adapt is null)
        {
            return spec.Has("adaptation")
                ? throw spec.Error("adaptation", "configures online learning, but the spec has no adapt list naming what to learn.")
                : inner;
        }

        if (adapt.Count == 0)
        {
            throw spec.Error("adapt", $"names no parameter; list those each stream learns (learnable here: {LearnableName}).");
        }

        for (var k = 0; k < adapt.Count; k++)
        {
            if (k > 0 && adapt[k] == LearnableName)
            {
                throw new ModelValidationException($"adapt[{k}]", $"'{adapt[k]}' is listed twice.");
            }

            if (adapt[k] != LearnableName)
            {
                throw new ModelValidationException($"adapt[{k}]", $"'{adapt[k]}' cannot be learned online by this kind (learnable here: {LearnableName}; the transition noise of a nonlinear model is not learned).");
            }
        }

        var settings = AdaptationSettings.Read(spec, NoiseLearningMethod.VariationalBayes, NoiseLearningMethod.VariationalBayes);
        if (spec.Element.TryGetProperty("adaptation", out var given) && given.ValueKind == JsonValueKind.Object && given.TryGetProperty("maxStep", out _))
        {
            throw spec.Error("adaptation.maxStep", "applies to recursive-ml learning, which this kind does not use.");
        }

        // The pendulum and growth models take observationNoise as a number, the linear model as a matrix (the model has
        // been read already, so its type is valid).
        var scalar = !(spec.Element.TryGetProperty(NonlinearModelSpec.Field, out var model) && model.TryGetProperty("type", out var type) && type.ValueEquals("linear"));
        return new AdaptiveNonlinearFilter(inner, settings, LearnableName, scalar);
    }

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <summary>The learning settings.</summary>
    public AdaptationSettings Settings => settings;

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        inner.Initialize(state[..innerLength], seed);
        var ad = state[innerLength..Info.StateLength];
        ad.Clear();
        for (var i = 0; i < m; i++)
        {
            ad[alphaSlot + i] = 0.5 * settings.PriorWeight;
            ad[betaSlot + i] = ad[alphaSlot + i] * modelNoise[(i * m) + i];
        }
    }

    /// <inheritdoc />
    public void StartFrom(Span<double> state, ReadOnlySpan<double> values)
    {
        SpanChecks.State(state, Info);
        SpanChecks.Learned(nameof(values), values, Info);
        var ad = state[innerLength..Info.StateLength];
        for (var i = 0; i < m; i++)
        {
            var value = scalarField ? values[0] : values[(i * m) + i];
            var field = scalarField ? Info.Parameters[0].Name : $"{Info.Parameters[0].Name}[{i}][{i}]";
            if (StartValues.Problem(value) is { } problem)
            {
                throw new ModelValidationException(field, problem);
            }

            for (var j = 0; j < m && !scalarField; j++)
            {
                if (j != i && values[(i * m) + j] != 0.0)
                {
                    throw new ModelValidationException($"{Info.Parameters[0].Name}[{i}][{j}]", "must be 0: the learned matrix is diagonal.");
                }
            }

            ad[betaSlot + i] = ad[alphaSlot + i] * value;
        }
    }

    /// <inheritdoc />
    public void ReadParameters(ReadOnlySpan<double> state, Span<double> values, Span<double> deviations)
    {
        SpanChecks.Parameters(state, values, deviations, Info);
        var ad = state[innerLength..Info.StateLength];
        var length = Info.ParametersLength;
        values[..length].Clear();
        deviations[..length].Clear();
        for (var i = 0; i < m; i++)
        {
            var alpha = ad[alphaSlot + i];
            var beta = ad[betaSlot + i];
            var at = scalarField ? 0 : (i * m) + i;
            values[at] = beta / alpha;
            deviations[at] = alpha > 2.0 ? beta / ((alpha - 1.0) * Math.Sqrt(alpha - 2.0)) : double.NaN;
        }
    }

    /// <summary>
    /// After a re-initialised step: true when the filter restarted from its prior with the reading assimilated as a first
    /// step (with the values learned so far), so its record begins the new stretch; false when it was left at the prior.
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => !NonlinearState.PriorPending(state[..innerLength]);

    /// <inheritdoc />
    public long ReadingsLearned(ReadOnlySpan<double> state)
    {
        SpanChecks.State(state, Info);
        return (long)state[innerLength];
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var filter = state[..innerLength];
        var ad = state[innerLength..Info.StateLength];
        var alpha = ad.Slice(alphaSlot, m);
        var beta = ad.Slice(betaSlot, m);
        var memory = ad.Slice(memorySlot, m);
        var copy = arena.TakeUninitialized(innerLength);
        filter.CopyTo(copy);
        var previous = arena.Take(m * m);
        var update = arena.Take(m * m);
        for (var i = 0; i < m; i++)
        {
            previous[(i * m) + i] = beta[i] / alpha[i];
        }

        // Assume the reading is learned from: the update uses r_i = λβ/(λα + ½) for the observed components.
        var y = observation.Values;
        previous.CopyTo(update);
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                update[(i * m) + i] = lambda * beta[i] / ((lambda * alpha[i]) + 0.5);
            }
        }

        inner.StepWithNoise(filter, observation, estimate, backwardRecord, update);
        if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            // The filter restarted from its prior; nothing to learn from this reading. When it assimilated the reading
            // as a first step, it does so again with the values learned so far (the step index as before).
            if (!NonlinearState.PriorPending(filter))
            {
                var steps = NonlinearState.Steps(filter);
                inner.Initialize(filter, 0);
                NonlinearState.SetSteps(filter, steps - 1);
                inner.StepWithNoise(filter, observation, estimate, backwardRecord, previous);
                estimate.Flags |= EstimateFlags.Reinitialized;
            }
            else
            {
                Predictive(estimate, previous, update, y, scoreOnly: false);
            }

            ReadParameters(state, estimate.Parameters, estimate.ParameterDeviations);
            arena.Release(mark);
            return;
        }

        var learn = Predictive(estimate, previous, update, y, scoreOnly: false);
        var rejected = false;
        if (learn is null)
        {
            learn = false;
        }

        var observed = 0;
        var masked = arena.TakeUninitialized(m);
        y.CopyTo(masked);
        var om = estimate.ObservationMean;
        var oc = estimate.ObservationCovariance;
        for (var i = 0; i < m; i++)
        {
            if (!double.IsFinite(y[i]))
            {
                continue;
            }

            observed++;
            var v = y[i] - om[i];
            if (v * v > gateSquared * oc[(i * m) + i])
            {
                learn = false;
                if (memory[i] == 0.0)
                {
                    memory[i] = 1.0;
                    masked[i] = double.NaN;
                    rejected = true;
                    continue;
                }
            }

            memory[i] = 0.0;
        }

        if (observed == 0 || learn != true)
        {
            // Learn nothing: the update with the previous values, rejected components left out; the record keeps the
            // predictive statistics of every observed component.
            var (loglik, nis, count, flags) = (estimate.LogLikelihood, estimate.NormalizedInnovationSquared, estimate.ObservedCount, estimate.Flags);
            copy.CopyTo(filter);
            inner.StepWithNoise(filter, new Observation(masked, observation.TimeGap, observation.Time, observation.Control), estimate, backwardRecord, previous);
            estimate.LogLikelihood = loglik;
            estimate.NormalizedInnovationSquared = nis;
            estimate.ObservedCount = count;
            estimate.Flags |= flags | (rejected ? EstimateFlags.OutlierRejected : EstimateFlags.None);
        }
        else
        {
            // α = λα + ½, β⁻ = λβ; N iterations of β = β⁻ + ½ E[(y − h(x))²] with the update redone for each.
            var (loglik, nis, count, flags) = (estimate.LogLikelihood, estimate.NormalizedInnovationSquared, estimate.ObservedCount, estimate.Flags);
            var scaleBefore = arena.TakeUninitialized(m);
            var squares = arena.TakeUninitialized(m);
            for (var i = 0; i < m; i++)
            {
                if (double.IsFinite(y[i]))
                {
                    alpha[i] = (lambda * alpha[i]) + 0.5;
                    beta[i] *= lambda;
                }

                scaleBefore[i] = beta[i];
            }

            for (var iteration = 0; iteration < settings.Iterations; iteration++)
            {
                if (iteration > 0)
                {
                    for (var i = 0; i < m; i++)
                    {
                        update[(i * m) + i] = beta[i] / alpha[i];
                    }

                    copy.CopyTo(filter);
                    inner.StepWithNoise(filter, observation, estimate, backwardRecord, update);
                    Predictive(estimate, previous, update, y, scoreOnly: true);
                }

                inner.ExpectedSquaredResiduals(filter, y, squares);
                for (var i = 0; i < m; i++)
                {
                    if (double.IsFinite(y[i]) && double.IsFinite(squares[i]))
                    {
                        beta[i] = scaleBefore[i] + (0.5 * squares[i]);
                    }
                }
            }

            estimate.LogLikelihood = loglik;
            estimate.NormalizedInnovationSquared = nis;
            estimate.ObservedCount = count;
            estimate.Flags |= flags;
            ad[0] += 1.0;
        }

        ReadParameters(state, estimate.Parameters, estimate.ParameterDeviations);
        arena.Release(mark);
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var ad = state[innerLength..Info.StateLength];
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var r = arena.Take(m * m);
        for (var i = 0; i < m; i++)
        {
            r[(i * m) + i] = ad[betaSlot + i] / ad[alphaSlot + i];
        }

        inner.ForecastWithNoise(state[..innerLength], stepGap, forecast, r);
        arena.Release(mark);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        inner.ReadState(state[..innerLength], mean, covariance);
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        inner.StartBackward(record, message);
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        inner.Backward(record, nextRecord, message);
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        inner.ReadSmoothed(record, message, mean, covariance);
    }

    /// <summary>
    /// Turns the observation covariance the filter reported with R = <paramref name="update"/> into the predictive one
    /// with R = <paramref name="previous"/> (both filters add R last), and unless <paramref name="scoreOnly"/> recomputes
    /// the log-likelihood and NIS over the observed components from it. Returns false when the predictive covariance
    /// has no Cholesky factor (nothing is learned), null when nothing was observed, true otherwise.
    /// </summary>
    private bool? Predictive(Estimate estimate, ReadOnlySpan<double> previous, ReadOnlySpan<double> update, ReadOnlySpan<double> y, bool scoreOnly)
    {
        var oc = estimate.ObservationCovariance;
        for (var i = 0; i < m; i++)
        {
            oc[(i * m) + i] += previous[(i * m) + i] - update[(i * m) + i];
        }

        if (scoreOnly)
        {
            return true;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        Span<int> observed = stackalloc int[m];
        var k = GaussianUpdate.Observed(y, observed);
        if (k == 0)
        {
            arena.Release(mark);
            return null;
        }

        var l = arena.Take(k * k);
        var v = arena.Take(k);
        for (var a = 0; a < k; a++)
        {
            v[a] = y[observed[a]] - estimate.ObservationMean[observed[a]];
            for (var b = 0; b < k; b++)
            {
                l[(a * k) + b] = oc[(observed[a] * m) + observed[b]];
            }
        }

        var ok = Dense.Cholesky(l, k);
        if (ok)
        {
            GaussianUpdate.Statistics(l, k, v, arena.Take(k), estimate);
        }

        arena.Release(mark);
        return ok;
    }
}
