using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Numerics;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The expectation-maximisation engine behind <see cref="LinearGaussianKind.FitEm"/> (the equations and the
/// choices are documented there).
/// </summary>
internal sealed partial class LinearGaussianEm
{
    private readonly JsonObject root;
    private readonly IReadOnlyList<ObservationSeries> sequences;
    private readonly bool fitTransition;
    private readonly bool fitTransitionNoise;
    private readonly bool fitObservation;
    private readonly bool fitObservationNoise;
    private readonly bool fitInitialMean;
    private readonly bool fitInitialCovariance;
    private readonly bool defaultPrior;
    private readonly List<ComponentNoise> componentNoise = [];
    private readonly int n;
    private readonly int m;
    private int[] transitionNoiseBlocks = [];
    private int[] observationNoiseBlocks = [];
    private int[] initialCovarianceBlocks = [];

    private LinearGaussianEm(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters)
    {
        root = JsonNode.Parse(spec.Json.GetRawText())!.AsObject();
        this.sequences = sequences;
        var model = LinearGaussianKind.BuildModel(spec.Reader());
        n = model.StateDimension;
        m = model.ObservationDimension;
        var matrices = model.Dynamics is MatrixDynamics;
        defaultPrior = !matrices && !root.ContainsKey("initialization") && !root.ContainsKey("initialMean") && !root.ContainsKey("initialCovariance");
        if (parameters.Count == 0)
        {
            throw new ModelValidationException("fit", "name at least one parameter to fit.");
        }

        foreach (var p in parameters.Distinct(StringComparer.Ordinal))
        {
            switch (p)
            {
                case "transition" when matrices:
                    fitTransition = true;
                    break;
                case "transitionNoise" when matrices:
                    fitTransitionNoise = true;
                    break;
                case "observation" when matrices:
                    fitObservation = true;
                    break;
                case "observationNoise":
                    fitObservationNoise = true;
                    break;
                case "initialMean" or "initialCovariance":
                    if (defaultPrior)
                    {
                        throw new ModelValidationException(p, "the spec uses the components' default prior; write initialMean and initialCovariance into the spec to fit them.");
                    }

                    if (model.IsDiffuse)
                    {
                        throw new ModelValidationException(p, "the prior is exact diffuse, so there is no initial state distribution to estimate; give initialMean and initialCovariance as a proper prior to fit them.");
                    }

                    fitInitialMean |= p == "initialMean";
                    fitInitialCovariance |= p == "initialCovariance";
                    break;
                case "transitionNoise" or "transition" or "observation":
                    throw new ModelValidationException(p, p == "transitionNoise"
                        ? "the model is built from continuous-time components, whose transition noise depends on the time gap, so EM cannot re-estimate it as a matrix; fit the components' noise rates instead (for example components[0].levelNoise), or use --method mle."
                        : "the model is built from continuous-time components; EM re-estimates explicit (time-invariant) transition and observation matrices only.");
                case "transitionOffset" or "observationOffset" or "control" when matrices && root.ContainsKey(p):
                    throw new ModelValidationException(p, "EM re-estimates transition, transitionNoise, observation, observationNoise, initialMean and initialCovariance; fit this field with --method mle.");
                default:
                    componentNoise.Add(ReadComponentNoise(p, model, matrices));
                    break;
            }
        }

        if (componentNoise.Select(c => c.Index).Distinct().Count() != componentNoise.Count)
        {
            throw new ModelValidationException("fit", "a component's noise rate is named twice.");
        }

        // A zero variance on the diagonal stays zero: the smoothed states (or readings) then fit it exactly, so its
        // update is zero again. Said up front, as for a component's noise rate, instead of a fit that never moves it.
        if (fitTransitionNoise && model.Dynamics is MatrixDynamics dynamics)
        {
            CheckPositiveDiagonal("transitionNoise", dynamics.TransitionNoise, n);
        }

        if (fitObservationNoise)
        {
            CheckPositiveDiagonal("observationNoise", model.ObservationNoise, m);
        }
    }

    private static void CheckPositiveDiagonal(string path, ReadOnlySpan<double> matrix, int size)
    {
        for (var i = 0; i < size; i++)
        {
            var v = matrix[(i * size) + i];
            if (!(v > 0.0))
            {
                throw new ModelValidationException(path, string.Create(CultureInfo.InvariantCulture, $"starts at {v} on the diagonal ([{i}][{i}]); EM cannot move a zero variance (the fit then follows the data or the transition exactly), so start it positive."));
            }
        }
    }

    /// <summary>Fits the named parameters by EM; <paramref name="accelerate"/> turns the safeguarded squared
    /// extrapolation on (the default) or off (plain EM, one M-step per iteration).</summary>
    public static FitResult Fit(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, FitOptions options, bool accelerate = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        return new LinearGaussianEm(spec, sequences, parameters).Run(options, accelerate);
    }

    private FitResult Run(FitOptions options, bool accelerate)
    {
        var smoothed = new SmoothedSequence[sequences.Count];
        for (var s = 0; s < sequences.Count; s++)
        {
            if (sequences[s].Dimension != m)
            {
                throw new ModelValidationException("input", $"sequence {s} has {sequences[s].Dimension} components per observation but the model observes {m}.");
            }

            smoothed[s] = new SmoothedSequence(sequences[s], n);
        }

        var model = Build();
        transitionNoiseBlocks = model.Dynamics is MatrixDynamics md ? Blocks(md.TransitionNoise, n) : [];
        observationNoiseBlocks = Blocks(model.ObservationNoise, m);
        initialCovarianceBlocks = Blocks(model.InitialCovariance, n);
        var loglik = ExpectationStep(model, smoothed, out var failure);
        if (!double.IsFinite(loglik))
        {
            throw new ModelValidationException("fit", $"the starting model makes the filter diverge ({failure}); choose starting values closer to the data.");
        }

        var undetermined = Array.FindIndex(smoothed, s => s.StillDiffuse);
        if (undetermined >= 0)
        {
            throw new ModelValidationException(model.Dynamics is MatrixDynamics ? "initialization" : "components", $"the exact diffuse period does not end within sequence {undetermined}: some combination of the diffuse states is never determined by the data (for example two components that both carry the level, or the second state of a trigonometric-seasonal harmonic at half the period, harmonics = period / 2 with readings one unit apart, which no reading sees), so EM has no finite smoothed moments for it; give initialMean and initialCovariance as a proper prior, change the model, or fit by maximum likelihood (--method mle), which handles it.");
        }

        var theta = ReadParameters();
        options.Progress?.Report(new FitProgress(0, options.MaxIterations, loglik));
        var iterations = 0;
        var converged = false;
        while (iterations < options.MaxIterations)
        {
            // θ1 = M(θ0): the smoothed moments in the buffers always belong to the current point θ0.
            MaximizationStep(model, smoothed);
            iterations++;
            var theta1 = ReadParameters();
            var model1 = TryBuild();
            if (model1 is null && VarianceAboveBound() is { } above)
            {
                // Readings of about 1e150 or more: writing the estimate would give a spec run refuses, and keeping the
                // previous point would report it as if the data had stopped the fit there.
                throw new ModelValidationException("fit", Validate.FittedVarianceTooLarge(above.Field, above.Value, above.Most));
            }

            var next = (Theta: theta1, Model: model1, LogLik: model1 is null ? double.NegativeInfinity : ExpectationStep(model1, smoothed, out _));
            if (accelerate && iterations < options.MaxIterations && double.IsFinite(next.LogLik))
            {
                next = Accelerate(theta, theta1, model1!, next.LogLik, smoothed, ref iterations);
            }

            var gain = next.LogLik - loglik;
            if (!(gain >= 0.0))
            {
                // EM never lowers the likelihood; a drop beyond rounding means numerical trouble: keep the current point.
                converged = gain > -1e-9 * Math.Max(1.0, Math.Abs(loglik));
                WriteParameters(theta);
                break;
            }

            theta = next.Theta;
            model = next.Model!;
            loglik = next.LogLik;
            WriteParameters(theta);
            options.Progress?.Report(new FitProgress(iterations, options.MaxIterations, loglik));
            if (gain < options.Tolerance)
            {
                converged = true;
                break;
            }
        }

        return new FitResult(root.DeepClone().AsObject(), loglik, iterations, converged, "em");
    }

    /// <summary>
    /// One squared-extrapolation cycle (SQUAREM, Varadhan &amp; Roland 2008) after θ1 = M(θ0): θ2 = M(θ1),
    /// r = θ1 − θ0, v = θ2 − 2θ1 + θ0, α = −‖r‖/‖v‖, θ' = θ0 − 2α r + α² v. θ' is kept only when it is a valid
    /// model whose likelihood is at least that of θ2 (α is halved towards −1, where θ' = θ2, otherwise), so the
    /// accepted points never lose likelihood. On return the buffers hold the E-step of the returned point.
    /// </summary>
    private (double[] Theta, LinearGaussianModel? Model, double LogLik) Accelerate(
        double[] theta0, double[] theta1, LinearGaussianModel model1, double loglik1, SmoothedSequence[] smoothed, ref int iterations)
    {
        MaximizationStep(model1, smoothed);
        iterations++;
        var theta2 = ReadParameters();
        var model2 = TryBuild();
        var loglik2 = model2 is null ? double.NegativeInfinity : ExpectationStep(model2, smoothed, out _);
        if (!(loglik2 >= loglik1))
        {
            WriteParameters(theta1);
            ExpectationStep(model1, smoothed, out _);
            return (theta1, model1, loglik1);
        }

        double rr = 0.0, vv = 0.0;
        for (var i = 0; i < theta0.Length; i++)
        {
            var r = theta1[i] - theta0[i];
            var v = theta2[i] - (2 * theta1[i]) + theta0[i];
            rr += r * r;
            vv += v * v;
        }

        var alpha = vv > 0.0 ? -Math.Sqrt(rr / vv) : -1.0;
        var tried = false;
        for (var attempt = 0; attempt < 6 && alpha < -1.0 - 1e-3; attempt++, alpha = (alpha - 1.0) / 2.0)
        {
            var trial = new double[theta0.Length];
            for (var i = 0; i < trial.Length; i++)
            {
                var r = theta1[i] - theta0[i];
                var v = theta2[i] - (2 * theta1[i]) + theta0[i];
                trial[i] = theta0[i] - (2 * alpha * r) + (alpha * alpha * v);
            }

            WriteParameters(trial);
            var candidate = TryBuild();
            if (candidate is null)
            {
                continue;
            }

            tried = true;
            var ll = ExpectationStep(candidate, smoothed, out _);
            if (ll >= loglik2)
            {
                return (trial, candidate, ll);
            }
        }

        WriteParameters(theta2);
        if (tried)
        {
            ExpectationStep(model2!, smoothed, out _);
        }

        return (theta2, model2, loglik2);
    }

    /// <summary>Filters and smooths every sequence; returns the total log-likelihood, or −∞ naming the failure.</summary>
    private static double ExpectationStep(LinearGaussianModel model, SmoothedSequence[] smoothed, out string failure)
    {
        var filter = new KalmanFilter(model);
        var loglik = 0.0;
        failure = string.Empty;
        for (var s = 0; s < smoothed.Length; s++)
        {
            if (!smoothed[s].Compute(filter, out var step))
            {
                failure = $"sequence {s}, step {step}";
                return double.NegativeInfinity;
            }

            var sequenceLogLik = smoothed[s].LogLikelihood;
            if (!double.IsFinite(sequenceLogLik) && failure.Length == 0)
            {
                failure = $"sequence {s} has log-likelihood {sequenceLogLik.ToString(CultureInfo.InvariantCulture)}{(double.IsNegativeInfinity(sequenceLogLik) ? ": a reading lies beyond double precision from its prediction" : string.Empty)}";
            }

            loglik += sequenceLogLik;
        }

        return loglik;
    }

    private LinearGaussianModel Build() => LinearGaussianKind.BuildModel(ModelSpec.Parse(root.ToJsonString()).Reader());

    private LinearGaussianModel? TryBuild()
    {
        try
        {
            return Build();
        }
        catch (ModelValidationException)
        {
            return null;
        }
    }

    /// <summary>The fitted values as one vector (component rates as variances), for extrapolation.</summary>
    private double[] ReadParameters()
    {
        var values = new List<double>();
        foreach (var (field, _, _) in MatrixFields())
        {
            values.AddRange(root[field]!.AsArray().SelectMany(v => v is JsonArray row ? row.Select(x => x!.GetValue<double>()) : [v!.GetValue<double>()]));
        }

        foreach (var cn in componentNoise)
        {
            var value = cn.Read(root);
            values.Add(cn.IsVolatility ? value * value : value);
        }

        return [.. values];
    }

    private void WriteParameters(double[] theta)
    {
        var offset = 0;
        foreach (var (field, rows, columns) in MatrixFields())
        {
            var span = theta.AsSpan(offset, rows * columns);
            if (field == "initialMean")
            {
                WriteVector(field, span);
            }
            else
            {
                WriteMatrix(field, span, rows, columns);
            }

            offset += rows * columns;
        }

        foreach (var cn in componentNoise)
        {
            var v = theta[offset++];
            cn.Write(root, cn.IsVolatility ? Math.Sqrt(Math.Max(v, 0.0)) : v);
        }
    }

    /// <summary>The first fitted variance (covariance entry or component rate) above what a spec may hold, or null.</summary>
    private (string Field, double Value, double Most)? VarianceAboveBound()
    {
        foreach (var (field, _, _) in MatrixFields())
        {
            if (field is not ("transitionNoise" or "observationNoise" or "initialCovariance"))
            {
                continue;
            }

            var rows = root[field]!.AsArray();
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i]!.AsArray();
                for (var j = 0; j < row.Count; j++)
                {
                    var v = row[j]!.GetValue<double>();
                    if (!(Math.Abs(v) <= Validate.MaxVariance))
                    {
                        return (string.Create(CultureInfo.InvariantCulture, $"{field}[{i}][{j}]"), v, Validate.MaxVariance);
                    }
                }
            }
        }

        foreach (var cn in componentNoise)
        {
            var v = cn.Read(root);
            var most = cn.IsVolatility ? Validate.MaxDeviation : Validate.MaxVariance;
            if (!(v <= most))
            {
                return (cn.Preset ? $"preset.{cn.Field}" : string.Create(CultureInfo.InvariantCulture, $"components[{cn.Index}].{cn.Field}"), v, most);
            }
        }

        return null;
    }

    private IEnumerable<(string Field, int Rows, int Columns)> MatrixFields()
    {
        if (fitTransition)
        {
            yield return ("transition", n, n);
        }

        if (fitTransitionNoise)
        {
            yield return ("transitionNoise", n, n);
        }

        if (fitObservation)
        {
            yield return ("observation", m, n);
        }

        if (fitObservationNoise)
        {
            yield return ("observationNoise", m, m);
        }

        if (fitInitialMean)
        {
            yield return ("initialMean", n, 1);
        }

        if (fitInitialCovariance)
        {
            yield return ("initialCovariance", n, n);
        }
    }

    private void MaximizationStep(LinearGaussianModel model, SmoothedSequence[] smoothed)
    {
        var nn = n * n;
        var dynamics = model.Dynamics;
        var f = new double[nn];
        var q = new double[nn];
        var c = new double[n];
        dynamics.Discretize(1.0, f, q, c);
        var g = new double[n];
        var e = new double[nn];

        // Transition F = A10 A00⁻¹ with A10 = Σ E[(h_t − g_t) h_{t-1}'], A00 = Σ E[h_{t-1} h_{t-1}'].
        if (fitTransition)
        {
            var a10 = new double[nn];
            var a00 = new double[nn];
            foreach (var seq in smoothed)
            {
                for (var t = 1; t < seq.Length; t++)
                {
                    Offset(model, seq.Series, t, c, g);
                    var x = seq.Means.AsSpan(t * n, n);
                    var xp = seq.Means.AsSpan((t - 1) * n, n);
                    var cross = seq.CrossCovariances.AsSpan(t * nn, nn);
                    var pp = seq.Covariances.AsSpan((t - 1) * nn, nn);
                    for (var i = 0; i < n; i++)
                    {
                        for (var j = 0; j < n; j++)
                        {
                            a10[(i * n) + j] += cross[(i * n) + j] + ((x[i] - g[i]) * xp[j]);
                            a00[(i * n) + j] += pp[(i * n) + j] + (xp[i] * xp[j]);
                        }
                    }
                }
            }

            if (SolveRight(a10, a00, n, n))
            {
                a10.CopyTo(f, 0);
                WriteMatrix("transition", f, n, n);
            }
        }

        // Transition noise: Q = mean of E[e_t e_t'], e_t = h_t − F h_{t-1} − g_t, with the (new) F.
        if (fitTransitionNoise || componentNoise.Count > 0)
        {
            var sum = new double[nn];
            var count = 0;
            var acc = new double[componentNoise.Count];
            var dims = new double[componentNoise.Count];
            var rates = componentNoise.Select(cn => CurrentRate(model, cn)).ToArray();
            foreach (var seq in smoothed)
            {
                for (var t = 1; t < seq.Length; t++)
                {
                    if (!dynamics.IsTimeInvariant)
                    {
                        Array.Clear(f);
                        Array.Clear(q);
                        Array.Clear(c);
                        dynamics.Discretize(Gap(seq.Series, t), f, q, c);
                    }

                    Offset(model, seq.Series, t, c, g);
                    TransitionResidualMoment(seq, t, f, g, e);
                    if (fitTransitionNoise)
                    {
                        for (var i = 0; i < nn; i++)
                        {
                            sum[i] += e[i];
                        }
                    }

                    for (var k = 0; k < componentNoise.Count; k++)
                    {
                        var cn = componentNoise[k];
                        if (ScaledTrace(q, e, n, cn.Offset, cn.Size, rates[k], out var tr))
                        {
                            acc[k] += tr;
                            dims[k] += cn.Size;
                        }
                    }

                    count++;
                }
            }

            if (fitTransitionNoise && count > 0)
            {
                for (var i = 0; i < nn; i++)
                {
                    sum[i] /= count;
                }

                FinishCovariance(sum, n, transitionNoiseBlocks);
                WriteMatrix("transitionNoise", sum, n, n);
            }

            if (componentNoise.Count > 0)
            {
                AddPriorTerms(model, smoothed, rates, acc, dims);
                for (var k = 0; k < componentNoise.Count; k++)
                {
                    if (dims[k] > 0)
                    {
                        var v = acc[k] / dims[k];
                        componentNoise[k].Write(root, componentNoise[k].IsVolatility ? Math.Sqrt(v) : v);
                    }
                }
            }
        }

        ObservationStep(model, smoothed);
        InitialStep(model, smoothed);
    }

    /// <summary>
    /// H and R. Each step with at least one observed component contributes the complete-data moments of
    /// ỹ_t = y_t − d, where missing components are replaced by their conditional law given the observed ones and
    /// h_t: ỹ_m = (H_m − K H_o) h_t + K ỹ_o + η, K = R_mo R_oo⁻¹, η ~ N(0, R_mm − K R_om). Wholly missing steps
    /// contribute nothing.
    /// </summary>
    private void ObservationStep(LinearGaussianModel model, SmoothedSequence[] smoothed)
    {
        if (!fitObservation && !fitObservationNoise)
        {
            return;
        }

        var nn = n * n;
        var h = model.Observation.ToArray();
        var imputation = new ObservationImputation(model);
        if (fitObservation)
        {
            var syh = new double[m * n];
            var shh = new double[nn];
            foreach (var seq in smoothed)
            {
                for (var t = 0; t < seq.Length; t++)
                {
                    if (!seq.Updated[t])
                    {
                        continue;
                    }

                    var x = seq.Means.AsSpan(t * n, n);
                    var p = seq.Covariances.AsSpan(t * nn, nn);
                    imputation.Set(seq.Series.Values.AsSpan(t * m, m), x);
                    for (var i = 0; i < m; i++)
                    {
                        for (var j = 0; j < n; j++)
                        {
                            var lp = 0.0;
                            for (var k = 0; k < n; k++)
                            {
                                lp += imputation.Loading[(i * n) + k] * p[(k * n) + j];
                            }

                            syh[(i * n) + j] += (imputation.Mean[i] * x[j]) + lp;
                        }
                    }

                    for (var i = 0; i < nn; i++)
                    {
                        shh[i] += p[i] + (x[i / n] * x[i % n]);
                    }
                }
            }

            if (SolveRight(syh, shh, m, n))
            {
                h = syh;
                WriteMatrix("observation", h, m, n);
            }
        }

        if (fitObservationNoise)
        {
            var sum = new double[m * m];
            var count = 0;
            var dev = new double[m];
            var load = new double[m * n];
            var lp = new double[m * n];
            foreach (var seq in smoothed)
            {
                for (var t = 0; t < seq.Length; t++)
                {
                    if (!seq.Updated[t])
                    {
                        continue;
                    }

                    var x = seq.Means.AsSpan(t * n, n);
                    var p = seq.Covariances.AsSpan(t * nn, nn);
                    imputation.Set(seq.Series.Values.AsSpan(t * m, m), x);

                    // E[(ỹ − H h)(ỹ − H h)'] = (ŷ − H x)(ŷ − H x)' + (L − H) P (L − H)' + R_cond.
                    for (var i = 0; i < m; i++)
                    {
                        var s = imputation.Mean[i];
                        for (var k = 0; k < n; k++)
                        {
                            s -= h[(i * n) + k] * x[k];
                            load[(i * n) + k] = imputation.Loading[(i * n) + k] - h[(i * n) + k];
                        }

                        dev[i] = s;
                    }

                    Dense.Multiply(load, m, n, p, n, lp);
                    for (var i = 0; i < m; i++)
                    {
                        for (var j = 0; j < m; j++)
                        {
                            var s = 0.0;
                            for (var k = 0; k < n; k++)
                            {
                                s += lp[(i * n) + k] * load[(j * n) + k];
                            }

                            sum[(i * m) + j] += (dev[i] * dev[j]) + s + imputation.Conditional[(i * m) + j];
                        }
                    }

                    count++;
                }
            }

            if (count > 0)
            {
                for (var i = 0; i < sum.Length; i++)
                {
                    sum[i] /= count;
                }

                FinishCovariance(sum, m, observationNoiseBlocks);
                WriteMatrix("observationNoise", sum, m, m);
            }
        }
    }

    /// <summary>a_1 = mean of x_{1|T} over sequences; P_1 = mean of P_{1|T} + (x_{1|T} − a_1)(x_{1|T} − a_1)'.</summary>
    private void InitialStep(LinearGaussianModel model, SmoothedSequence[] smoothed)
    {
        if (!fitInitialMean && !fitInitialCovariance)
        {
            return;
        }

        var nn = n * n;
        var a1 = model.InitialMean.ToArray();
        var used = smoothed.Where(s => s.Length > 0).ToArray();
        if (used.Length == 0)
        {
            return;
        }

        if (fitInitialMean)
        {
            Array.Clear(a1);
            foreach (var seq in used)
            {
                for (var i = 0; i < n; i++)
                {
                    a1[i] += seq.Means[i] / used.Length;
                }
            }

            WriteVector("initialMean", a1);
        }

        if (fitInitialCovariance)
        {
            var p1 = new double[nn];
            foreach (var seq in used)
            {
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        p1[(i * n) + j] += (seq.Covariances[(i * n) + j] + ((seq.Means[i] - a1[i]) * (seq.Means[j] - a1[j]))) / used.Length;
                    }
                }
            }

            FinishCovariance(p1, n, initialCovarianceBlocks);
            WriteMatrix("initialCovariance", p1, n, n);
        }
    }

    /// <summary>
    /// The prior's share of a component noise rate: when the spec uses the components' default prior and a
    /// component's default prior is proper (the Ornstein–Uhlenbeck stationary law), that prior scales with the rate
    /// too, so E[(h_1 − a_1)(h_1 − a_1)'] enters the update like one more transition.
    /// </summary>
    private void AddPriorTerms(LinearGaussianModel model, SmoothedSequence[] smoothed, double[] rates, double[] acc, double[] dims)
    {
        if (!defaultPrior)
        {
            return;
        }

        var nn = n * n;
        var e = new double[nn];
        for (var k = 0; k < componentNoise.Count; k++)
        {
            var cn = componentNoise[k];
            var diffuse = false;
            for (var i = cn.Offset; i < cn.Offset + cn.Size; i++)
            {
                diffuse |= model.InitialDiffuse[(i * n) + i] != 0.0;
            }

            if (diffuse)
            {
                continue;
            }

            foreach (var seq in smoothed.Where(s => s.Length > 0))
            {
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        e[(i * n) + j] = seq.Covariances[(i * n) + j] + ((seq.Means[i] - model.InitialMean[i]) * (seq.Means[j] - model.InitialMean[j]));
                    }
                }

                if (ScaledTrace(model.InitialCovariance, e, n, cn.Offset, cn.Size, rates[k], out var tr))
                {
                    acc[k] += tr;
                    dims[k] += cn.Size;
                }
            }
        }
    }

    /// <summary>E[e_t e_t'] = r r' + P_t − F C_t' − C_t F' + F P_{t-1} F', r = x_t − F x_{t-1} − g_t, C_t = Cov(h_t, h_{t-1}).</summary>
    private void TransitionResidualMoment(SmoothedSequence seq, int t, ReadOnlySpan<double> f, ReadOnlySpan<double> g, Span<double> e)
    {
        var nn = n * n;
        var x = seq.Means.AsSpan(t * n, n);
        var xp = seq.Means.AsSpan((t - 1) * n, n);
        var p = seq.Covariances.AsSpan(t * nn, nn);
        var pp = seq.Covariances.AsSpan((t - 1) * nn, nn);
        var cross = seq.CrossCovariances.AsSpan(t * nn, nn);
        Span<double> r = stackalloc double[n];
        Span<double> fc = stackalloc double[nn];
        Span<double> fp = stackalloc double[nn];
        for (var i = 0; i < n; i++)
        {
            var s = x[i] - g[i];
            for (var k = 0; k < n; k++)
            {
                s -= f[(i * n) + k] * xp[k];
            }

            r[i] = s;
        }

        // fc = F C_t', fp = F P_{t-1}.
        Dense.MultiplyTransposed(f, n, n, cross, n, fc);
        Dense.Multiply(f, n, n, pp, n, fp);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var fpf = 0.0;
                for (var k = 0; k < n; k++)
                {
                    fpf += fp[(i * n) + k] * f[(j * n) + k];
                }

                e[(i * n) + j] = (r[i] * r[j]) + p[(i * n) + j] - fc[(i * n) + j] - fc[(j * n) + i] + fpf;
            }
        }

        Dense.Symmetrize(e, n);
    }

    /// <summary>tr(Q̄_b⁻¹ E_bb) for the block [o, o+b) with Q̄_b = Q_bb / v; false when that block of Q is singular
    /// (a zero gap), in which case the step carries no information about the rate.</summary>
    private static bool ScaledTrace(ReadOnlySpan<double> q, ReadOnlySpan<double> e, int n, int o, int b, double v, out double trace)
    {
        trace = 0.0;
        var l = new double[b * b];
        var rhs = new double[b * b];
        for (var i = 0; i < b; i++)
        {
            for (var j = 0; j < b; j++)
            {
                l[(i * b) + j] = q[((o + i) * n) + o + j] / v;
                rhs[(i * b) + j] = e[((o + i) * n) + o + j];
            }
        }

        if (!Dense.Cholesky(l, b))
        {
            return false;
        }

        Dense.CholeskySolve(l, b, rhs, b);
        for (var i = 0; i < b; i++)
        {
            trace += rhs[(i * b) + i];
        }

        return true;
    }

    /// <summary>g_t = c_t + B u_t (missing control components count as zero, as in the filter).</summary>
    private static void Offset(LinearGaussianModel model, ObservationSeries series, int t, ReadOnlySpan<double> c, Span<double> g)
    {
        c.CopyTo(g);
        var u = model.ControlDimension;
        if (u == 0 || series.Controls is null)
        {
            return;
        }

        var control = series.Controls.AsSpan(t * series.ControlDimension, series.ControlDimension);
        for (var i = 0; i < g.Length; i++)
        {
            for (var j = 0; j < u && j < control.Length; j++)
            {
                if (double.IsFinite(control[j]))
                {
                    g[i] += model.Control[(i * u) + j] * control[j];
                }
            }
        }
    }

    private static double Gap(ObservationSeries series, int t) => series.TimeGaps is null ? 1.0 : series.TimeGaps[t];

    /// <summary>X ← X A⁻¹ for X (r×k) and a symmetric positive (semi-)definite A (k×k). False when A is singular.</summary>
    private static bool SolveRight(double[] x, double[] a, int r, int k)
    {
        // X A⁻¹ = (A⁻¹ X')' since A is symmetric.
        var xt = new double[k * r];
        for (var i = 0; i < r; i++)
        {
            for (var j = 0; j < k; j++)
            {
                xt[(j * r) + i] = x[(i * k) + j];
            }
        }

        var l = (double[])a.Clone();
        Dense.Symmetrize(l, k);
        if (Dense.Cholesky(l, k))
        {
            Dense.CholeskySolve(l, k, xt, r);
        }
        else
        {
            a.CopyTo(l, 0);
            if (!Dense.Solve(l, k, xt, r))
            {
                return false;
            }
        }

        for (var i = 0; i < r; i++)
        {
            for (var j = 0; j < k; j++)
            {
                x[(i * k) + j] = xt[(j * r) + i];
            }
        }

        return true;
    }

    /// <summary>
    /// Groups the indices of a starting covariance into blocks connected by non-zero entries. Label −1 marks a zero
    /// variance, which stays zero.
    /// </summary>
    private static int[] Blocks(ReadOnlySpan<double> start, int n)
    {
        var label = new int[n];
        Array.Fill(label, int.MinValue);
        var next = 0;
        for (var i = 0; i < n; i++)
        {
            if (label[i] != int.MinValue)
            {
                continue;
            }

            if (start[(i * n) + i] == 0.0)
            {
                label[i] = -1;
                continue;
            }

            var stack = new Stack<int>();
            stack.Push(i);
            label[i] = next;
            while (stack.Count > 0)
            {
                var a = stack.Pop();
                for (var b = 0; b < n; b++)
                {
                    if (label[b] == int.MinValue && start[(a * n) + b] != 0.0)
                    {
                        label[b] = next;
                        stack.Push(b);
                    }
                }
            }

            next++;
        }

        return label;
    }

    /// <summary>Keeps the starting block pattern, symmetrises, and clips rounding-level negative eigenvalues.</summary>
    private static void FinishCovariance(double[] p, int n, int[] blocks)
    {
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (blocks[i] < 0 || blocks[i] != blocks[j])
                {
                    p[(i * n) + j] = 0.0;
                }
            }
        }

        Dense.Symmetrize(p, n);
        var l = (double[])p.Clone();
        if (!Dense.Cholesky(l, n))
        {
            Dense.RepairCovariance(p, n);
        }
    }

    private void WriteMatrix(string field, ReadOnlySpan<double> values, int rows, int columns)
    {
        var array = new JsonArray();
        for (var i = 0; i < rows; i++)
        {
            var row = new JsonArray();
            for (var j = 0; j < columns; j++)
            {
                row.Add(values[(i * columns) + j]);
            }

            array.Add(row);
        }

        root[field] = array;
    }

    private void WriteVector(string field, ReadOnlySpan<double> values)
    {
        var array = new JsonArray();
        foreach (var v in values)
        {
            array.Add(v);
        }

        root[field] = array;
    }

    private ComponentNoise ReadComponentNoise(string path, LinearGaussianModel model, bool matrices)
    {
        var match = ComponentField().Match(path);
        if (matrices || !match.Success)
        {
            if (root.ContainsKey(path) || match.Success)
            {
                throw new ModelValidationException(path, matrices
                    ? "EM re-estimates transition, transitionNoise, observation, observationNoise, initialMean and initialCovariance; fit this field with --method mle."
                    : "EM re-estimates observationNoise, the components' noise rates and (with a proper prior given in the spec) initialMean and initialCovariance; fit this field with --method mle.");
            }

            throw new ModelValidationException(path, $"'{path}' is not a field of the model spec, so it cannot be fitted.");
        }

        var preset = match.Groups[1].Value == "preset";
        var index = preset ? 0 : int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        var field = match.Groups[3].Value;
        var container = preset ? root["preset"] as JsonObject : (root["components"] as JsonArray) is { } list && index < list.Count ? list[index] as JsonObject : null;
        if (container is null || !container.ContainsKey(field))
        {
            throw new ModelValidationException(path, $"'{path}' is not a field of the model spec, so it cannot be fitted.");
        }

        var components = ((ContinuousTimeDynamics)model.Dynamics).Components;
        var component = components[index];
        var offset = components.Take(index).Sum(c => c.StateDimension);
        var rate = Rate(component);
        if (component is LocalLinearTrend && field is "levelNoise" or "slopeNoise")
        {
            throw new ModelValidationException(path, "the local linear trend's transition noise mixes levelNoise and slopeNoise in a gap-dependent way, so the EM update has no exact closed form; use --method mle for it.");
        }

        if (rate is not { } r || r.Field != field)
        {
            throw new ModelValidationException(path, $"EM re-estimates only a component's noise rate{(rate is { } known ? $" ({known.Field} here)" : string.Empty)}; fit this field with --method mle.");
        }

        if (!(r.Value > 0.0))
        {
            throw new ModelValidationException(path, "starts at zero; EM cannot move a zero noise rate (the smoothed states then follow the transition exactly), so start it positive.");
        }

        return new ComponentNoise(index, preset, field, offset, component.StateDimension, r.Volatility);
    }

    /// <summary>The single noise rate v of a component whose transition noise is v · Q̄(Δt) with Q̄ free of v
    /// (v = volatility² for Ornstein–Uhlenbeck), or null when the component has no such rate.</summary>
    private static (string Field, bool Volatility, double Value)? Rate(ContinuousComponent component) => component switch
    {
        LocalLevel c => ("levelNoise", false, c.LevelNoise),
        ConstantVelocity c => ("accelerationNoise", false, c.AccelerationNoise),
        ConstantAcceleration c => ("jerkNoise", false, c.JerkNoise),
        TrigonometricSeasonal c => ("seasonalNoise", false, c.SeasonalNoise),
        OrnsteinUhlenbeck c => ("volatility", true, c.Volatility * c.Volatility),
        _ => null,
    };

    private static double CurrentRate(LinearGaussianModel model, ComponentNoise noise) =>
        Rate(((ContinuousTimeDynamics)model.Dynamics).Components[noise.Index])!.Value.Value;

    [GeneratedRegex(@"^(?:(preset)|components\[(\d+)\])\.([A-Za-z]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ComponentField();

    /// <summary>A component noise rate v with Q_block(Δt) = v · Q̄_block(Δt) (v = volatility² for Ornstein–Uhlenbeck).</summary>
    private sealed record ComponentNoise(int Index, bool Preset, string Field, int Offset, int Size, bool IsVolatility)
    {
        public double Read(JsonObject root) => Container(root)[Field]!.GetValue<double>();

        public void Write(JsonObject root, double value) => Container(root)[Field] = value;

        private JsonObject Container(JsonObject root) =>
            Preset ? root["preset"]!.AsObject() : root["components"]!.AsArray()[Index]!.AsObject();
    }
}
