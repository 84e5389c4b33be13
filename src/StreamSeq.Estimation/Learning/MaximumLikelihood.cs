using System.Globalization;
using System.Text.Json.Nodes;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Learning;

/// <summary>
/// Maximum-likelihood fitting of any spec kind: chosen fields of the spec are optimised to maximise
/// log p(y_{1:T}), with variances on a log scale (covariance matrices through a log-Cholesky factor).
/// </summary>
/// <remarks>
/// The optimiser is MathNet's Nelder–Mead simplex to get close, then BFGS with central-difference gradients to
/// converge; for estimators whose likelihood is a Monte-Carlo estimate that is not smooth in the parameters
/// (<see cref="INonSmoothLikelihood"/>, the particle filter) the simplex alone is used, because finite-difference
/// gradients across resampling jumps are meaningless. Every evaluation initialises each sequence with the same
/// seed (spec <c>seed</c> + <see cref="FitOptions.Seed"/> + sequence index), so a particle likelihood is evaluated
/// with common random numbers and the objective is a deterministic function of the parameters. It is still
/// piecewise continuous (a parameter change moves resampled ancestors), so fits work best with resampling at every
/// step (<c>essThreshold</c> 1, which keeps the random numbers aligned between evaluations) and, for one-dimensional
/// states, <c>sortedResampling</c> (ancestors then move to neighbouring states, which makes the likelihood nearly
/// continuous). Fields are addressed by their spec path, for example <c>observationNoise</c> or
/// <c>components[0].levelNoise</c>. A field is treated as a variance when its name ends in <c>Noise</c>,
/// <c>Covariance</c>, <c>Variance</c> or <c>Volatility</c> (or is listed in <see cref="PositiveFields"/>).
/// </remarks>
public static class MaximumLikelihood
{
    /// <summary>Extra field names (last path segment) constrained positive through a log scale.</summary>
    public static ISet<string> PositiveFields { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "variance", "variances", "volatility", "scale", "meanReversion", "period", "degreesOfFreedom",
    };

    /// <summary>Fits the spec's <paramref name="parameters"/> to the sequences.</summary>
    public static FitResult Fit(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= new FitOptions();
        if (parameters.Count == 0)
        {
            throw new ModelValidationException("fit", "name at least one parameter to fit.");
        }

        sequences = OutsideSupportAsGaps(spec, sequences);

        var root = JsonNode.Parse(spec.Json.GetRawText())!.AsObject();
        var blocks = parameters.Select(p => ParameterBlock.Create(root, p)).ToArray();
        var x0 = Vector<double>.Build.DenseOfEnumerable(blocks.SelectMany(b => b.Encode()));
        RefuseFieldsThatCannotMove(root, blocks, x0, spec.BaseDirectory);
        var evaluations = 0;
        var best = double.NegativeInfinity;
        var bestPoint = x0;

        double Objective(Vector<double> x)
        {
            evaluations++;
            var ll = Evaluate(root, blocks, x, sequences, options.Seed, spec.BaseDirectory);
            if (ll > best)
            {
                best = ll;
                bestPoint = x.Clone();
            }

            return double.IsFinite(ll) ? -ll : 1e300;
        }

        var startLl = Evaluate(root, blocks, x0, sequences, options.Seed, spec.BaseDirectory);
        if (!double.IsFinite(startLl))
        {
            throw new ModelValidationException("fit", $"the starting model gives a non-finite log-likelihood on the data{WhereNonFinite(spec, sequences, options.Seed)}; remove readings far outside the data's range, or choose starting values closer to the data.");
        }

        var nonSmooth = ModelCatalog.Build(spec) is INonSmoothLikelihood;
        if (!nonSmooth)
        {
            x0 = OnTheDataScale(blocks, x0, startLl, x => -Objective(x));
        }

        var iterations = 0;
        (Vector<double> X, bool Converged, string StopReason) Optimise(Vector<double> from)
        {
            var simplexConverged = false;
            string stopReason;
            var simplex = new NelderMeadSimplex(1e-10, Math.Max(50, options.MaxIterations));
            var x = from;
            try
            {
                // A Monte-Carlo likelihood is jagged on small scales, so its simplex starts wide (±0.3 on the log scale of
                // a variance, 30% of other values) instead of MathNet's tiny default.
                var nm = nonSmooth
                    ? simplex.FindMinimum(ObjectiveFunction.Value(Objective), from, Vector<double>.Build.Dense(from.Count, i => 0.3 * Math.Max(1.0, Math.Abs(from[i]))))
                    : simplex.FindMinimum(ObjectiveFunction.Value(Objective), from);
                x = nm.MinimizingPoint;
                iterations += nm.Iterations;
                simplexConverged = nm.ReasonForExit == ExitCondition.Converged;
                stopReason = simplexConverged ? "simplex converged (spread of the log-likelihood over the simplex below 1e-10)" : $"simplex stopped: {Describe(nm.ReasonForExit)}";
            }
            catch (MaximumIterationsException)
            {
                // Out of iterations: continue from the best point evaluated so far, having spent all of them.
                x = bestPoint;
                iterations += Math.Max(50, options.MaxIterations);
                stopReason = $"simplex reached the iteration limit ({Math.Max(50, options.MaxIterations)})";
            }

            options.Progress?.Report(new FitProgress(iterations, options.MaxIterations, best, "simplex done"));
            var converged = nonSmooth && simplexConverged;
            if (!nonSmooth)
            {
                try
                {
                    var bfgs = new BfgsMinimizer(1e-6, 1e-10, 1e-12, options.MaxIterations);
                    var gradientObjective = ObjectiveFunction.Gradient(Objective, v => CentralGradient(Objective, v));
                    var result = bfgs.FindMinimum(gradientObjective, x);
                    if (result.FunctionInfoAtMinimum.Value <= Objective(x))
                    {
                        x = result.MinimizingPoint;
                    }

                    iterations += result.Iterations;
                    converged = result.ReasonForExit is not (ExitCondition.None or ExitCondition.InvalidValues or ExitCondition.ExceedIterations);
                    stopReason = $"BFGS: {Describe(result.ReasonForExit)}";
                }
                catch (Exception e) when (e is MaximumIterationsException or OptimizationException or ArgumentException)
                {
                    // Keep the simplex point; report non-convergence.
                    stopReason = e is MaximumIterationsException
                        ? $"BFGS reached the iteration limit ({options.MaxIterations}); kept the best point"
                        : $"BFGS failed ({e.Message.TrimEnd('.')}); kept the simplex point";
                }
            }

            return (x, converged, stopReason);
        }

        var (x, converged, stopReason) = Optimise(x0);
        double? loglikAtX = null;
        List<OffZero>? offZeroAtX = null;
        if (!nonSmooth)
        {
            // On the log scale the gradient of a variance vanishes as it goes to 0 whether or not 0 is a maximum, so
            // BFGS can stop with a variance at 1e-9 or 1e-22 where the likelihood still rises off 0 on the natural scale
            // (a level plus a seasonal ended 4 to 5 below the maximum EM reaches). Such a variance is moved to the best
            // of a few positive values and the optimiser run again, keeping the better result, a bounded number of
            // times.
            var atX = Evaluate(root, blocks, x, sequences, options.Seed, spec.BaseDirectory);
            for (var restart = 0; restart < MaxBoundaryRestarts && double.IsFinite(atX); restart++)
            {
                offZeroAtX = [.. RisesOffZero(blocks, x, atX, sequences, v => Evaluate(root, blocks, v, sequences, options.Seed, spec.BaseDirectory))];
                var rise = offZeroAtX
                    .Where(r => r.LogLik > atX + BoundaryGain(atX))
                    .OrderByDescending(r => r.LogLik)
                    .FirstOrDefault();
                if (rise.Name is null)
                {
                    break;
                }

                var from = x.Clone();
                from[rise.Coordinate] = Math.Log(rise.Value);
                var again = Optimise(from);
                var atAgain = Evaluate(root, blocks, again.X, sequences, options.Seed, spec.BaseDirectory);
                if (!(atAgain > atX))
                {
                    break;
                }

                (x, converged, atX, offZeroAtX) = (again.X, again.Converged, atAgain, null);
                stopReason = string.Create(CultureInfo.InvariantCulture, $"{again.StopReason} (restarted with {rise.Name} moved off 0 to {rise.Value:G3}, where the log-likelihood was higher)");
            }

            loglikAtX = atX;
        }

        // The log-likelihood at x, and what moving each variance off 0 gives there, are reused when already computed
        // for x (each a pass of the filter over every sequence).
        var loglik = loglikAtX ?? Evaluate(root, blocks, x, sequences, options.Seed, spec.BaseDirectory);
        if (!double.IsFinite(loglik) && double.IsFinite(best))
        {
            // The optimiser's last point is outside the model (a decoded value overflowed, or the filter diverged):
            // keep the best point evaluated instead of writing a spec the next run cannot load.
            x = bestPoint;
            converged = false;
            loglik = Evaluate(root, blocks, x, sequences, options.Seed, spec.BaseDirectory);
            offZeroAtX = null;
        }

        options.Progress?.Report(new FitProgress(iterations, options.MaxIterations, loglik, "done"));
        var diagnostics = Diagnose(root, blocks, x, sequences, options.Seed, spec.BaseDirectory, nonSmooth, stopReason, converged, nonSmooth ? null : (loglik, offZeroAtX));
        Apply(blocks, x);
        return new FitResult(root, loglik, iterations, diagnostics.IdentifiedMaximum, "mle") { Diagnostics = diagnostics };
    }

    /// <summary>
    /// Standard errors and identification checks for the spec's <paramref name="parameters"/> at the values the spec
    /// holds (a fit's result, for example from EM), with the given stopping reason.
    /// </summary>
    public static FitDiagnostics Diagnose(ModelSpec fitted, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, string stopReason, bool optimizerConverged, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fitted);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= new FitOptions();
        sequences = OutsideSupportAsGaps(fitted, sequences);
        var root = JsonNode.Parse(fitted.Json.GetRawText())!.AsObject();
        var blocks = parameters.Select(p => ParameterBlock.Create(root, p)).ToArray();

        // The estimates are reported as the spec holds them: decoding the optimiser's coordinates (exp of a log) can
        // move a value in its last digits.
        var held = blocks.SelectMany(b => b.Natural()).ToArray();
        var x = Vector<double>.Build.DenseOfEnumerable(blocks.SelectMany(b => b.Encode()));
        var nonSmooth = ModelCatalog.Build(fitted) is INonSmoothLikelihood;
        return Diagnose(root, blocks, x, sequences, options.Seed, fitted.BaseDirectory, nonSmooth, stopReason, optimizerConverged, reported: held);
    }

    // known: the log-likelihood at x and, when the fit has it, the off-0 check there (RisesOffZero); null: computed here.
    // reported: the natural values to report (the spec's own); null: those x decodes to.
    private static FitDiagnostics Diagnose(JsonObject root, ParameterBlock[] blocks, Vector<double> x, IReadOnlyList<ObservationSeries> sequences, ulong seed, string? baseDirectory, bool nonSmooth, string stopReason, bool optimizerConverged, (double LogLik, List<OffZero>? OffZero)? known = null, (string Name, double Value)[]? reported = null)
    {
        var p = x.Count;
        var observations = sequences.Sum(CountObserved);
        var spent = DiffuseSpent(root, sequences, baseDirectory);
        var informative = observations - spent;
        var coordinates = blocks.SelectMany(b => b.Coordinates()).ToArray();
        Apply(blocks, x);
        var natural = reported ?? blocks.SelectMany(b => b.Natural()).ToArray();
        var warnings = new List<string>();
        if (!optimizerConverged)
        {
            warnings.Add($"the optimiser did not converge ({stopReason}): the estimates are where it stopped, not a maximum");
        }

        // A variance at its lower end: the optimiser stops wherever it gives up, at a value such as 6.6e-310 that is the
        // edge of the range, not an estimate. On the log scale the gradient vanishes there whether or not 0 is a
        // maximum, so the log-likelihood is checked on the natural scale at a few values off 0 and the warning says
        // which it is.
        var typical = TypicalMagnitude(sequences);
        var atBoundary = new HashSet<string>(StringComparer.Ordinal);
        if (typical > 0.0 && double.IsFinite(typical * typical))
        {
            var positives = blocks.SelectMany(b => b.PositiveValues()).ToArray();
            var atX = nonSmooth ? double.NaN : known?.LogLik ?? Evaluate(root, blocks, x, sequences, seed, baseDirectory);
            var checkedOff = nonSmooth || !double.IsFinite(atX)
                ? []
                : (known?.OffZero ?? RisesOffZero(blocks, x, atX, sequences, v => Evaluate(root, blocks, v, sequences, seed, baseDirectory))).ToDictionary(r => r.Name);
            Apply(blocks, x);
            foreach (var (name, value) in positives)
            {
                if (checkedOff.TryGetValue(name, out var off))
                {
                    var rises = off.LogLik > atX + BoundaryGain(atX);
                    if (!rises)
                    {
                        atBoundary.Add(coordinates[off.Coordinate].Name);
                    }

                    warnings.Add(rises
                        ? string.Create(CultureInfo.InvariantCulture, $"{name} stopped near 0 ({value:G3}) although the log-likelihood rises moving it off 0 (by {off.LogLik - atX:G3} at {off.Value:G3}): the fit stopped short of the maximum, so this value is not an estimate")
                        : string.Create(CultureInfo.InvariantCulture, $"{name} went to its lower bound 0 ({value:G3}): the log-likelihood does not increase moving it off 0 (checked at {OffZeroDecades + 1} values from {off.Lowest:G3} to {off.Highest:G3}, readings of about {typical:G3} in size), so the data leave no variation for it to explain and 0 is the edge of the range, not an interior estimate"));
                }
                else if (value <= NearZero * typical * typical)
                {
                    warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{name} went to its lower bound 0 ({value:G3}) (readings of about {typical:G3} in size), so this value is where the fit stopped, not an estimate"));
                }
            }
        }

        // A variance the likelihood drives above what a spec may hold (readings of about 1e150): the refused points
        // stop the optimiser just below the bound, which is the edge of the range, not an estimate.
        foreach (var (name, value) in blocks.SelectMany(b => b.PositiveValues()))
        {
            if (value >= 0.5 * Numerics.Validate.MaxVariance)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{name} went to its upper bound {Numerics.Validate.MaxVariance:G3} ({value:G3}), the largest variance a spec may hold (a filter overflows adding a larger one to another), so this value is where the fit stopped, not an estimate; rescale the readings (for example to other units) and fit again"));
            }
        }

        string? unavailable = null;
        Matrix<double>? covariance = null;
        if (informative < p)
        {
            unavailable = $"{observations} observed value{(observations == 1 ? string.Empty : "s")} for {p} free parameters{(spent == 0 ? string.Empty : $", and the exact diffuse start spends {spent} of them on the initial state")}";
            warnings.Add($"{unavailable}: the data cannot identify the parameters");
        }
        else if (nonSmooth)
        {
            unavailable = "the Monte-Carlo log-likelihood is not smooth in the parameters, so its Hessian is not an observed information";
        }
        else
        {
            var information = -Hessian(v => Evaluate(root, blocks, v, sequences, seed, baseDirectory), x);
            if (!information.ForAll(double.IsFinite))
            {
                unavailable = "the log-likelihood is not finite around the estimate";
                warnings.Add(unavailable);
            }
            else
            {
                var evd = information.Evd(Symmetricity.Symmetric);
                var values = evd.EigenValues.Select(v => v.Real).ToArray();
                var largest = values.Max(Math.Abs);
                for (var k = 0; k < p; k++)
                {
                    var ratio = largest > 0.0 ? values[k] / largest : 0.0;
                    var direction = DescribeDirection(evd.EigenVectors.Column(k), coordinates);
                    if (ratio < 1e-6 && atBoundary.Contains(direction))
                    {
                        // Along a variance checked to belong at 0 the log scale's curvature says nothing about a
                        // maximum (the maximum is the edge), so the boundary warning above is the whole story.
                        unavailable ??= "a variance is at its lower bound 0, where the observed information gives no standard errors";
                    }
                    else if (values[k] < 0.0 && ratio < -1e-10)
                    {
                        unavailable ??= "the observed information is not positive definite";
                        warnings.Add($"the log-likelihood curves upwards along {direction}: the estimate is not a maximum");
                    }
                    else if (ratio <= 1e-10)
                    {
                        unavailable ??= "the observed information is singular";
                        warnings.Add($"the log-likelihood is flat along {direction}: the data cannot identify it");
                    }
                    else if (ratio < 1e-6)
                    {
                        warnings.Add($"the log-likelihood is nearly flat along {direction} (information {ratio:G2} of the largest): the data barely identify it");
                    }
                }

                if (unavailable is null)
                {
                    covariance = information.Inverse();
                    covariance = 0.5 * (covariance + covariance.Transpose());
                }
            }
        }

        var coordinateSe = new double[p];
        var naturalSe = new double[natural.Length];
        Array.Fill(coordinateSe, double.NaN);
        Array.Fill(naturalSe, double.NaN);
        if (covariance is not null)
        {
            for (var i = 0; i < p; i++)
            {
                coordinateSe[i] = Math.Sqrt(Math.Max(covariance[i, i], 0.0));
            }

            // Delta method: Cov(θ) = J Cov(x) J' with J = ∂θ/∂x by central differences of the (cheap) decoding.
            var jacobian = Matrix<double>.Build.Dense(natural.Length, p);
            for (var i = 0; i < p; i++)
            {
                var h = 1e-6 * Math.Max(1.0, Math.Abs(x[i]));
                var xp = x.Clone();
                var xm = x.Clone();
                xp[i] += h;
                xm[i] -= h;
                Apply(blocks, xp);
                var up = blocks.SelectMany(b => b.Natural()).Select(v => v.Value).ToArray();
                Apply(blocks, xm);
                var down = blocks.SelectMany(b => b.Natural()).Select(v => v.Value).ToArray();
                for (var r = 0; r < natural.Length; r++)
                {
                    jacobian[r, i] = (up[r] - down[r]) / (2 * h);
                }
            }

            Apply(blocks, x);
            var naturalCovariance = jacobian * covariance * jacobian.Transpose();
            for (var r = 0; r < natural.Length; r++)
            {
                naturalSe[r] = Math.Sqrt(Math.Max(naturalCovariance[r, r], 0.0));
            }
        }

        return new FitDiagnostics
        {
            StopReason = stopReason,
            OptimizerConverged = optimizerConverged,
            Observations = observations,
            InformativeObservations = informative,
            Parameters = [.. natural.Select((v, i) => new ParameterEstimate(v.Name, v.Value, naturalSe[i]))],
            Coordinates = [.. coordinates.Select((c, i) => new OptimizerCoordinate(c.Name, c.Scale, x[i], coordinateSe[i]))],
            StandardErrorsAvailable = covariance is not null,
            CurvatureChecked = !nonSmooth,
            StandardErrorNote = covariance is not null
                ? "from the observed information (minus the central-difference Hessian of the log-likelihood at the estimate, on the optimiser's scale: log for variances), carried to the natural scale by the delta method"
                : $"unavailable: {unavailable}",
            Warnings = warnings,
        };
    }

    /// <summary>Central-difference Hessian with steps 1e-4 · max(1, |x_i|) (about ε^¼, balancing truncation and the
    /// log-likelihood's rounding).</summary>
    private static Matrix<double> Hessian(Func<Vector<double>, double> f, Vector<double> x)
    {
        var p = x.Count;
        var h = Vector<double>.Build.Dense(p, i => 1e-4 * Math.Max(1.0, Math.Abs(x[i])));
        var f0 = f(x);
        var hessian = Matrix<double>.Build.Dense(p, p);
        for (var i = 0; i < p; i++)
        {
            var xp = x.Clone();
            var xm = x.Clone();
            xp[i] += h[i];
            xm[i] -= h[i];
            hessian[i, i] = (f(xp) - (2 * f0) + f(xm)) / (h[i] * h[i]);
            for (var j = 0; j < i; j++)
            {
                double Shifted(double si, double sj)
                {
                    var v = x.Clone();
                    v[i] += si * h[i];
                    v[j] += sj * h[j];
                    return f(v);
                }

                var value = (Shifted(1, 1) - Shifted(1, -1) - Shifted(-1, 1) + Shifted(-1, -1)) / (4 * h[i] * h[j]);
                hessian[i, j] = value;
                hessian[j, i] = value;
            }
        }

        return hessian;
    }

    /// <summary>Restarts of the optimiser from a variance moved off 0 where the log-likelihood rises there.</summary>
    private const int MaxBoundaryRestarts = 3;

    /// <summary>A variance at most this fraction of its reference (the readings' size squared, or to the power of the
    /// field, <see cref="ParameterBlock.LogVariances"/>) is at its lower end: checked off 0, and warned about.</summary>
    private const double NearZero = 1e-10;

    /// <summary>Off-0 values tried: the reference times 10^-k for k = 0..8.</summary>
    private const int OffZeroDecades = 8;

    /// <summary>How much higher a log-likelihood off 0 must be to count as a rise (above rounding of the filter's sum).</summary>
    private static double BoundaryGain(double logLik) => Math.Max(1e-6, 1e-9 * Math.Abs(logLik));

    /// <summary>What moving one log-scaled variance off 0 gives: the best value tried, its log-likelihood, and the range tried.</summary>
    private readonly record struct OffZero(string Name, int Coordinate, double Value, double LogLik, double Lowest, double Highest);

    /// <summary>
    /// For each variance fitted on the log scale (a scalar, a vector's entries, a diagonal covariance's diagonal) that
    /// ended at its lower end: the best log-likelihood with it moved to one of a few positive values, the readings'
    /// scale down by decades, the others held. A variance at 0 that is a maximum gives nothing higher.
    /// </summary>
    private static IEnumerable<OffZero> RisesOffZero(
        ParameterBlock[] blocks, Vector<double> x, double atX, IReadOnlyList<ObservationSeries> sequences, Func<Vector<double>, double> logLik)
    {
        var typical = TypicalMagnitude(sequences);
        if (!(typical > 0.0) || !double.IsFinite(typical * typical))
        {
            yield break;
        }

        var offset = 0;
        foreach (var block in blocks)
        {
            foreach (var (local, name, power) in block.LogVariances())
            {
                var coordinate = offset + local;
                var reference = Math.Pow(typical, 2 * power);
                if (!(Math.Exp(x[coordinate]) <= NearZero * reference) || !double.IsFinite(reference))
                {
                    continue;
                }

                var bestValue = reference;
                var bestLl = double.NegativeInfinity;
                for (var k = 0; k <= OffZeroDecades; k++)
                {
                    var value = reference * Math.Pow(10, -k);
                    var v = x.Clone();
                    v[coordinate] = Math.Log(value);
                    var ll = logLik(v);
                    if (ll > bestLl)
                    {
                        (bestValue, bestLl) = (value, ll);
                    }
                }

                yield return new OffZero(name, coordinate, bestValue, bestLl, reference * Math.Pow(10, -OffZeroDecades), reference);
            }

            offset += block.Count;
        }
    }

    /// <summary>The coordinates that dominate an eigenvector of the information, for a warning.</summary>
    private static string DescribeDirection(Vector<double> vector, (string Name, string Scale)[] coordinates)
    {
        var names = Enumerable.Range(0, vector.Count)
            .Where(i => Math.Abs(vector[i]) >= 0.3)
            .OrderByDescending(i => Math.Abs(vector[i]))
            .Select(i => coordinates[i].Name)
            .ToArray();
        return names.Length == 1 ? names[0] : $"a combination of {string.Join(", ", names)}";
    }

    /// <summary>The mean magnitude of the observed values (0 when there are none).</summary>
    private static double TypicalMagnitude(IReadOnlyList<ObservationSeries> sequences)
    {
        var (sum, count) = (0.0, 0L);
        foreach (var series in sequences)
        {
            foreach (var v in series.Values)
            {
                if (double.IsFinite(v))
                {
                    sum += Math.Abs(v);
                    count++;
                }
            }
        }

        return count == 0 ? 0.0 : sum / count;
    }

    /// <summary>
    /// The observed values an exact diffuse start spends: each of the d diffuse state directions takes one observed
    /// value to determine it, whose log-likelihood term −½(log 2π + log F∞) does not involve the noise variances, so
    /// d values of every sequence (at most all it has) say nothing about them (statsmodels' <c>nobs_diffuse</c>).
    /// 0 for a proper prior and for other kinds.
    /// </summary>
    private static int DiffuseSpent(JsonObject root, IReadOnlyList<ObservationSeries> sequences, string? baseDirectory)
    {
        LinearGaussianModel model;
        try
        {
            var spec = ModelSpec.Parse(root.ToJsonString(), baseDirectory: baseDirectory);
            if (ModelCatalog.Build(spec) is not KalmanFilter kalman)
            {
                return 0;
            }

            model = kalman.Model;
        }
        catch (ModelValidationException)
        {
            return 0;
        }

        if (!model.IsDiffuse)
        {
            return 0;
        }

        var n = model.StateDimension;
        var diffuse = 0;
        for (var i = 0; i < n; i++)
        {
            diffuse += model.InitialDiffuse[(i * n) + i] != 0.0 ? 1 : 0;
        }

        return sequences.Sum(s => Math.Min(CountObserved(s), diffuse));
    }

    private static int CountObserved(ObservationSeries series)
    {
        var count = 0;
        foreach (var v in series.Values)
        {
            count += double.IsFinite(v) ? 1 : 0;
        }

        return count;
    }

    private static string Describe(ExitCondition reason) => reason switch
    {
        ExitCondition.AbsoluteGradient => "gradient below 1e-6",
        ExitCondition.RelativeGradient => "relative gradient below 1e-6",
        ExitCondition.RelativePoints => "step below 1e-10 (relative)",
        ExitCondition.LackOfProgress => "log-likelihood improvement below 1e-12",
        ExitCondition.BoundTolerance => "step below 1e-10 at a bound",
        ExitCondition.WeakWolfeCriteria or ExitCondition.StrongWolfeCriteria => "line search could not improve",
        ExitCondition.ExceedIterations => "iteration limit reached",
        ExitCondition.InvalidValues => "non-finite log-likelihood",
        ExitCondition.Converged => "converged",
        _ => reason.ToString(),
    };

    private static Vector<double> CentralGradient(Func<Vector<double>, double> f, Vector<double> x)
    {
        var g = Vector<double>.Build.Dense(x.Count);
        for (var i = 0; i < x.Count; i++)
        {
            var h = 1e-5 * Math.Max(1.0, Math.Abs(x[i]));
            var xp = x.Clone();
            var xm = x.Clone();
            xp[i] += h;
            xm[i] -= h;
            g[i] = (f(xp) - f(xm)) / (2 * h);
        }

        return g;
    }

    /// <summary>
    /// For a hidden Markov model, the sequences with each reading outside the emission's support (a negative or
    /// fractional count, a category out of range) made missing; other kinds' sequences as they are. Such a reading has
    /// probability 0 under every parameter value, so it says nothing about them: it is left out of the fit as a gap,
    /// exactly as Baum–Welch leaves it out (otherwise every point's log-likelihood is −∞ and there is nothing to maximise).
    /// The support does not depend on the fitted values (a categorical emission's category count is its matrix's width).
    /// </summary>
    private static IReadOnlyList<ObservationSeries> OutsideSupportAsGaps(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences)
    {
        IEstimator estimator;
        try
        {
            estimator = ModelCatalog.Build(spec);
        }
        catch (ModelValidationException)
        {
            // A starting spec that does not build is reported by the fit's own checks.
            return sequences;
        }

        if (estimator is not HiddenMarkovFilter hmm)
        {
            return sequences;
        }

        var emission = hmm.Model.Emission;
        return [.. sequences.Select(series =>
        {
            var d = series.Dimension;
            double[]? values = null;
            for (var t = 0; t < series.Length; t++)
            {
                var y = series.Values.AsSpan(t * d, d);
                if (HmmEmission.CountObserved(y) > 0 && !emission.Accepts(y))
                {
                    values ??= (double[])series.Values.Clone();
                    values.AsSpan(t * d, d).Fill(double.NaN);
                }
            }

            return values is null ? series : new ObservationSeries(d, values, series.TimeGaps, series.Controls, series.ControlDimension);
        })];
    }

    /// <summary>": reading 51 of sequence 0 has ..." for the first step where the starting model's log-likelihood is not finite.</summary>
    private static string WhereNonFinite(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, ulong seed)
    {
        try
        {
            return LogLikelihood.FirstNonFinite(ModelCatalog.Build(spec), sequences, spec.Seed + seed) is var (s, t, what)
                ? string.Create(CultureInfo.InvariantCulture, $": reading {t + 1} of sequence {s} {what}")
                : string.Empty;
        }
        catch (ModelValidationException)
        {
            return string.Empty;
        }
    }

    /// <summary>
    /// The start moved along the one direction in which rescaling the readings moves the maximum: every variance
    /// times e^s (a standard deviation such as a volatility times e^(s/2)), with s chosen by the log-likelihood. The spec's
    /// starting values are written for readings of some size; for the Nile readings a million times larger, the
    /// simplex (which starts with small steps) began about 30 units of log-variance from the maximum and ended in a
    /// corner: all the variance in the observation noise, the level noise at 0, the log-likelihood 18 below the
    /// maximum. A start already on the data's scale is kept as it is: the move is taken only when it gains more than
    /// one unit of log-likelihood.
    /// </summary>
    private static Vector<double> OnTheDataScale(ParameterBlock[] blocks, Vector<double> x0, double startLl, Func<Vector<double>, double> logLik)
    {
        Vector<double> At(double shift)
        {
            var x = x0.Clone();
            var offset = 0;
            foreach (var b in blocks)
            {
                b.Rescale(x, offset, shift);
                offset += b.Count;
            }

            return x;
        }

        if (At(1.0).Equals(x0))
        {
            // Nothing fitted here is a variance or a standard deviation (a transition matrix, a rate of reversion).
            return x0;
        }

        // Doubling steps each way (up to e^±512, beyond which a variance near 1 leaves the doubles), then a golden
        // section between the best step's neighbours.
        var grid = new List<double> { 0.0 };
        var values = new List<double> { startLl };
        foreach (var direction in new[] { 1.0, -1.0 })
        {
            for (var k = 0; k <= 9; k++)
            {
                var shift = direction * Math.Pow(2, k);
                var ll = logLik(At(shift));
                if (!double.IsFinite(ll))
                {
                    break;
                }

                grid.Add(shift);
                values.Add(ll);
            }
        }

        var order = Enumerable.Range(0, grid.Count).OrderBy(i => grid[i]).ToArray();
        var bestAt = Array.IndexOf(order, Enumerable.Range(0, grid.Count).MaxBy(i => values[i]));
        var low = grid[order[Math.Max(bestAt - 1, 0)]];
        var high = grid[order[Math.Min(bestAt + 1, order.Length - 1)]];
        var best = (Shift: grid[order[bestAt]], LogLik: values[order[bestAt]]);
        const double ratio = 0.6180339887498949;
        var left = high - (ratio * (high - low));
        var right = low + (ratio * (high - low));
        var atLeft = logLik(At(left));
        var atRight = logLik(At(right));
        for (var i = 0; i < 40 && high - low > 1e-3; i++)
        {
            if (atLeft >= atRight || !double.IsFinite(atRight))
            {
                high = right;
                (right, atRight) = (left, atLeft);
                left = high - (ratio * (high - low));
                atLeft = logLik(At(left));
            }
            else
            {
                low = left;
                (left, atLeft) = (right, atRight);
                right = low + (ratio * (high - low));
                atRight = logLik(At(right));
            }
        }

        foreach (var (shift, ll) in new[] { (left, atLeft), (right, atRight) })
        {
            if (double.IsFinite(ll) && ll > best.LogLik)
            {
                best = (shift, ll);
            }
        }

        return best.LogLik > startLl + 1.0 ? At(best.Shift) : x0;
    }

    private static double Evaluate(JsonObject root, ParameterBlock[] blocks, Vector<double> x, IReadOnlyList<ObservationSeries> sequences, ulong seed, string? baseDirectory)
    {
        if (!Apply(blocks, x))
        {
            // exp of a large log-variance overflows (a simplex step from a start of 1e300): no model has that value.
            return double.NegativeInfinity;
        }

        IEstimator estimator;
        try
        {
            var spec = ModelSpec.Parse(root.ToJsonString(), baseDirectory: baseDirectory);
            estimator = ModelCatalog.Build(spec);
            seed = spec.Seed + seed;
        }
        catch (ModelValidationException)
        {
            return double.NegativeInfinity;
        }

        return LogLikelihood.Evaluate(estimator, sequences, seed);
    }

    /// <summary>
    /// The optimiser moves every fitted value continuously. A field the spec only accepts at whole or constrained
    /// values (<c>hiddenSize</c>, <c>components[0].harmonics</c>, an HMM's <c>transition</c> whose rows must sum to 1)
    /// scored every moved point −∞, so the fit wandered for hundreds of iterations and ended at the start with "the
    /// log-likelihood is not finite around the estimate". Such a field is refused at once, with the spec's own reason:
    /// when the block moved a small step each way (on the optimiser's scale) fails the spec's checks on that field both
    /// times. One failing side is a start at a bound (a persistence of 0.9999), which the optimiser can leave.
    /// </summary>
    private static void RefuseFieldsThatCannotMove(JsonObject root, ParameterBlock[] blocks, Vector<double> x0, string? baseDirectory)
    {
        const double step = 1e-3;
        var offset = 0;
        foreach (var block in blocks)
        {
            string? problem = null;
            foreach (var sign in (double[])[1, -1])
            {
                var x = x0.Clone();
                for (var i = offset; i < offset + block.Count; i++)
                {
                    x[i] += sign * step;
                }

                problem = Apply(blocks, x) ? ProblemWith(root, block.Path, baseDirectory) : null;
                if (problem is null)
                {
                    break;
                }
            }

            Apply(blocks, x0);
            if (problem is not null)
            {
                throw new ModelValidationException(block.Path, $"cannot be fitted: the optimiser moves each fitted value by small continuous steps, and the spec refuses a value moved so ({problem}).");
            }

            offset += block.Count;
        }
    }

    /// <summary>The spec's objection to the field at <paramref name="path"/> (or a part of it) at the written point, if any.</summary>
    private static string? ProblemWith(JsonObject root, string path, string? baseDirectory)
    {
        try
        {
            ModelCatalog.Build(ModelSpec.Parse(root.ToJsonString(), baseDirectory: baseDirectory));
            return null;
        }
        catch (ModelValidationException e) when (e.Field == path || e.Field.StartsWith(path + "[", StringComparison.Ordinal) || e.Field.StartsWith(path + ".", StringComparison.Ordinal))
        {
            return e.Problem.TrimEnd('.');
        }
        catch (ModelValidationException)
        {
            return null;
        }
    }

    /// <summary>Writes the point into the spec; false when a decoded value is not finite (it cannot be written as JSON).</summary>
    private static bool Apply(ParameterBlock[] blocks, Vector<double> x)
    {
        var offset = 0;
        var finite = true;
        foreach (var b in blocks)
        {
            finite &= b.Decode(x, offset);
            offset += b.Count;
        }

        return finite;
    }

    /// <summary>One named spec field and its unconstrained encoding.</summary>
    private sealed class ParameterBlock
    {
        private readonly JsonNode parent;
        private readonly string path;
        private readonly string key;
        private readonly int index = -1;
        private readonly bool positive;
        private readonly int rows;
        private readonly bool diagonalOnly;

        private ParameterBlock(JsonNode parent, string path, string key, int index, bool positive, int rows, bool diagonalOnly, int count, double[] start)
        {
            this.parent = parent;
            this.path = path;
            this.key = key;
            this.index = index;
            this.positive = positive;
            this.rows = rows;
            this.diagonalOnly = diagonalOnly;
            Count = count;
            Start = start;
        }

        public int Count { get; }

        /// <summary>The field's spec path, as named in the fit.</summary>
        public string Path => path;

        private double[] Start { get; }

        public static ParameterBlock Create(JsonObject root, string path)
        {
            var (parent, key, index) = Locate(root, path);
            var node = index >= 0 ? parent[key]!.AsArray()[index] : parent[key];
            var name = key;
            var positive = VariancePower(name) > 0 || PositiveFields.Contains(name);
            switch (node)
            {
                case JsonValue v when v.TryGetValue<double>(out var d):
                    CheckStart(path, string.Empty, d, positive);
                    return new ParameterBlock(parent, path, key, index, positive, 0, false, 1, [d]);
                case JsonArray a when a.Count > 0 && a[0] is JsonArray:
                    var r = a.Count;
                    var c = a[0]!.AsArray().Count;
                    var m = new double[r * c];
                    for (var i = 0; i < r; i++)
                    {
                        for (var j = 0; j < c; j++)
                        {
                            m[(i * c) + j] = a[i]![j]!.GetValue<double>();
                        }
                    }

                    for (var i = 0; i < r; i++)
                    {
                        for (var j = 0; j < c; j++)
                        {
                            CheckStart(path, $"[{i}][{j}]", m[(i * c) + j], positive && i == j);
                        }
                    }

                    if (positive)
                    {
                        if (r != c)
                        {
                            throw new ModelValidationException(path, "a covariance parameter must be square.");
                        }

                        var diag = true;
                        for (var i = 0; i < r; i++)
                        {
                            for (var j = 0; j < c; j++)
                            {
                                diag &= i == j || m[(i * c) + j] == 0.0;
                            }
                        }

                        return new ParameterBlock(parent, path, key, index, true, r, diag, diag ? r : r * (r + 1) / 2, m);
                    }

                    return new ParameterBlock(parent, path, key, index, false, r, false, r * c, m);
                case JsonArray a:
                    var vec = a.Select(e => e!.GetValue<double>()).ToArray();
                    for (var i = 0; i < vec.Length; i++)
                    {
                        CheckStart(path, $"[{i}]", vec[i], positive);
                    }

                    return new ParameterBlock(parent, path, key, index, positive, 0, false, vec.Length, vec);
                default:
                    throw new ModelValidationException(path, "is not a number, vector or matrix that can be fitted.");
            }
        }

        /// <summary>
        /// A starting value the optimiser can move: finite, and positive for a variance (its log is the coordinate, and
        /// log 0 is -Infinity; a zero on a covariance's diagonal used to reach the spec as NaN and crash the fit).
        /// </summary>
        private static void CheckStart(string path, string element, double value, bool positive)
        {
            if (positive && !(value > 0))
            {
                throw new ModelValidationException(path, string.Create(CultureInfo.InvariantCulture, $"starts at {value}{(element.Length > 0 ? $" at {element}" : string.Empty)}; a variance must start positive to be fitted on a log scale."));
            }

            if (!double.IsFinite(value))
            {
                throw new ModelValidationException(path, string.Create(CultureInfo.InvariantCulture, $"starts at {value}{(element.Length > 0 ? $" at {element}" : string.Empty)}; a fitted value must start finite."));
            }
        }

        /// <summary>Names and scales of this block's optimiser coordinates, in <see cref="Encode"/> order.</summary>
        public IEnumerable<(string Name, string Scale)> Coordinates()
        {
            if (rows > 0 && positive)
            {
                for (var i = 0; i < rows; i++)
                {
                    if (diagonalOnly)
                    {
                        yield return ($"log {path}[{i}][{i}]", "log");
                        continue;
                    }

                    for (var j = 0; j <= i; j++)
                    {
                        yield return i == j ? ($"log L{path}[{i}][{i}]", "log-cholesky") : ($"L{path}[{i}][{j}]", "cholesky");
                    }
                }

                yield break;
            }

            var columns = rows > 0 ? Start.Length / rows : 0;
            for (var i = 0; i < Count; i++)
            {
                var name = rows > 0 ? $"{path}[{i / columns}][{i % columns}]" : Count == 1 && IsScalar() ? path : $"{path}[{i}]";
                yield return positive ? ($"log {name}", "log") : (name, "natural");
            }
        }

        /// <summary>The block's fitted numbers as the spec now holds them (a covariance: its diagonal, or its lower
        /// triangle when fitted in full).</summary>
        public IEnumerable<(string Name, double Value)> Natural() => Values(diagonal: false);

        /// <summary>The fitted values that must stay positive: a variance or rate, a vector's entries, a matrix's diagonal.</summary>
        public IEnumerable<(string Name, double Value)> PositiveValues() => positive ? Values(diagonal: true) : [];

        private IEnumerable<(string Name, double Value)> Values(bool diagonal)
        {
            var node = index >= 0 ? parent[key]!.AsArray()[index] : parent[key];
            switch (node)
            {
                case JsonValue v:
                    yield return (path, v.GetValue<double>());
                    break;
                case JsonArray a when a.Count > 0 && a[0] is JsonArray:
                    for (var i = 0; i < a.Count; i++)
                    {
                        var row = a[i]!.AsArray();
                        for (var j = 0; j < row.Count; j++)
                        {
                            if (diagonal ? i == j : !positive || (diagonalOnly ? i == j : j <= i))
                            {
                                yield return ($"{path}[{i}][{j}]", row[j]!.GetValue<double>());
                            }
                        }
                    }

                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        yield return ($"{path}[{i}]", a[i]!.GetValue<double>());
                    }

                    break;
            }
        }

        /// <summary>
        /// The coordinates that are the log of a variance or standard deviation itself (a scalar, a vector's entries, a
        /// diagonal covariance's diagonal; not a log-Cholesky factor), with the name the spec's value has and the
        /// field's <see cref="VariancePower"/>.
        /// </summary>
        public IEnumerable<(int Local, string Name, double Power)> LogVariances()
        {
            var power = positive ? VariancePower(key) : 0;
            if (power == 0 || (rows > 0 && !diagonalOnly))
            {
                yield break;
            }

            for (var i = 0; i < Count; i++)
            {
                yield return (i, rows > 0 ? $"{path}[{i}][{i}]" : Count == 1 && IsScalar() ? path : $"{path}[{i}]", power);
            }
        }

        /// <summary>
        /// How a field's value scales with the readings, as a power of a variance: 1 for a variance or covariance
        /// (a field named ...Noise, ...Covariance, ...Variance, variance(s)), 0.5 for a standard deviation (...Volatility,
        /// volatility, scale), 0 for the rest. Every field above 0 is fitted on a log scale.
        /// </summary>
        private static double VariancePower(string name) =>
            name.EndsWith("Noise", StringComparison.Ordinal) || name.EndsWith("Covariance", StringComparison.Ordinal)
                || name.EndsWith("Variance", StringComparison.Ordinal) || name is "variance" or "variances" ? 1.0
            : name.EndsWith("Volatility", StringComparison.Ordinal) || name is "volatility" or "scale" ? 0.5
            : 0.0;

        /// <summary>
        /// Moves this block's coordinates in <paramref name="x"/> (from <paramref name="offset"/>) as multiplying the
        /// readings by e^(s/2) moves them: a variance by e^s, a standard deviation by e^(s/2), other values not at all
        /// (<see cref="VariancePower"/>).
        /// </summary>
        public void Rescale(Vector<double> x, int offset, double s)
        {
            var power = positive ? VariancePower(key) : 0;
            if (power == 0)
            {
                return;
            }

            var logShift = power * s;
            if (rows > 0 && !diagonalOnly)
            {
                // log-Cholesky: the factor of e^s Σ is e^(s/2) L.
                var k = offset;
                for (var i = 0; i < rows; i++)
                {
                    for (var j = 0; j <= i; j++, k++)
                    {
                        x[k] = i == j ? x[k] + (logShift / 2) : x[k] * Math.Exp(logShift / 2);
                    }
                }

                return;
            }

            for (var i = 0; i < Count; i++)
            {
                x[offset + i] += logShift;
            }
        }

        public IEnumerable<double> Encode()
        {
            if (rows > 0 && positive)
            {
                var n = rows;
                if (diagonalOnly)
                {
                    for (var i = 0; i < n; i++)
                    {
                        yield return Math.Log(Start[(i * n) + i]);
                    }

                    yield break;
                }

                var l = (double[])Start.Clone();
                if (!Numerics.Dense.Cholesky(l, n))
                {
                    throw new ModelValidationException(key, "must start positive definite to be fitted.");
                }

                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j <= i; j++)
                    {
                        yield return i == j ? Math.Log(l[(i * n) + j]) : l[(i * n) + j];
                    }
                }

                yield break;
            }

            foreach (var v in Start)
            {
                yield return positive ? Math.Log(v) : v;
            }
        }

        public bool Decode(Vector<double> x, int offset)
        {
            JsonNode value;
            var finite = true;
            if (rows > 0)
            {
                var n = rows;
                var c = positive ? n : Start.Length / n;
                var m = new double[n * c];
                if (positive && diagonalOnly)
                {
                    for (var i = 0; i < n; i++)
                    {
                        m[(i * n) + i] = Math.Exp(x[offset + i]);
                    }
                }
                else if (positive)
                {
                    var l = new double[n * n];
                    var k = offset;
                    for (var i = 0; i < n; i++)
                    {
                        for (var j = 0; j <= i; j++)
                        {
                            l[(i * n) + j] = i == j ? Math.Exp(x[k]) : x[k];
                            k++;
                        }
                    }

                    for (var i = 0; i < n; i++)
                    {
                        for (var j = 0; j < n; j++)
                        {
                            var s = 0.0;
                            for (var p = 0; p <= Math.Min(i, j); p++)
                            {
                                s += l[(i * n) + p] * l[(j * n) + p];
                            }

                            m[(i * n) + j] = s;
                        }
                    }
                }
                else
                {
                    for (var i = 0; i < m.Length; i++)
                    {
                        m[i] = x[offset + i];
                    }
                }

                var array = new JsonArray();
                for (var i = 0; i < n; i++)
                {
                    var row = new JsonArray();
                    for (var j = 0; j < c; j++)
                    {
                        finite &= double.IsFinite(m[(i * c) + j]);
                        row.Add(m[(i * c) + j]);
                    }

                    array.Add(row);
                }

                value = array;
            }
            else if (Count == 1 && Start.Length == 1 && IsScalar())
            {
                var v = positive ? Math.Exp(x[offset]) : x[offset];
                finite = double.IsFinite(v);
                value = JsonValue.Create(v);
            }
            else
            {
                var array = new JsonArray();
                for (var i = 0; i < Count; i++)
                {
                    var v = positive ? Math.Exp(x[offset + i]) : x[offset + i];
                    finite &= double.IsFinite(v);
                    array.Add(v);
                }

                value = array;
            }

            if (index >= 0)
            {
                parent[key]!.AsArray()[index] = value;
            }
            else
            {
                parent[key] = value;
            }

            return finite;
        }

        private bool IsScalar()
        {
            var current = index >= 0 ? parent[key]!.AsArray()[index] : parent[key];
            return current is JsonValue;
        }

        private static (JsonNode Parent, string Key, int Index) Locate(JsonObject root, string path)
        {
            // Paths look like a.b[2].c or observationNoise; an index on the last segment addresses an array element.
            JsonNode current = root;
            var segments = path.Split('.');
            for (var s = 0; s < segments.Length; s++)
            {
                var seg = segments[s];
                var match = System.Text.RegularExpressions.Regex.Match(seg, @"^([^\[\]]+)(?:\[([0-9]{1,9})\])?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
                if (!match.Success)
                {
                    // "x[0][5]", "x[-1]" and "x[0" read as x[0] or x before: a different field was fitted, or the
                    // parser threw an internal error.
                    throw new ModelValidationException(path, $"'{seg}' is not a field name with at most one whole-number index (such as observationNoise or components[0]); a matrix is fitted whole, not entry by entry.");
                }

                var name = match.Groups[1].Value;
                var idx = match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : -1;
                if (current is not JsonObject obj || !obj.ContainsKey(name))
                {
                    throw new ModelValidationException(path, $"'{name}' is not a field of the model spec, so it cannot be fitted.");
                }

                if (idx >= 0 && obj[name] is not JsonArray)
                {
                    throw new ModelValidationException(path, $"'{name}' is not a list, so it has no [{idx}].");
                }

                if (idx >= 0 && idx >= obj[name]!.AsArray().Count)
                {
                    var count = obj[name]!.AsArray().Count;
                    throw new ModelValidationException(path, $"'{name}' has {count} entr{(count == 1 ? "y" : "ies")}, so it has no [{idx}].");
                }

                var last = s == segments.Length - 1;
                if (last)
                {
                    return (obj, name, idx);
                }

                current = idx >= 0 ? obj[name]!.AsArray()[idx]! : obj[name]!;
            }

            throw new ModelValidationException(path, "empty parameter path.");
        }
    }
}
