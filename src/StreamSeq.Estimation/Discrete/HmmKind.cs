using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Numerics;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Discrete;

/// <summary>
/// The <c>hmm</c> spec kind: <c>initialProbabilities</c> (K), <c>transition</c> (K×K, rows sum to 1),
/// <c>emission</c> ({type: gaussian | multivariate-gaussian | categorical | poisson | student-t, ...}) and the
/// optional <c>viterbiWindow</c> (back-pointer columns kept for the online Viterbi traceback, default 32).
/// Fitted by Baum–Welch with <c>--method em</c>.
/// </summary>
public sealed class HmmKind : IModelKind, IExpectationMaximization
{
    /// <inheritdoc />
    public string Kind => "hmm";

    /// <inheritdoc />
    public string Description => "Hidden Markov model: forward filter, online Viterbi, fixed-lag smoothing; Gaussian, multivariate Gaussian, categorical, Poisson or Student-t emissions; Baum-Welch fitting.";

    /// <inheritdoc />
    public SpecShape Fields { get; } = SpecShape.Of("initialProbabilities", "transition", "viterbiWindow").Nest("emission", SpecShape.Of().WithVariants(
        "type",
        null,
        ("gaussian", SpecShape.Of("means", "variances")),
        ("multivariate-gaussian", SpecShape.Of("means", "covariances")),
        ("categorical", SpecShape.Of("probabilities")),
        ("poisson", SpecShape.Of("rates")),
        ("student-t", SpecShape.Of("locations", "scales", "degreesOfFreedom"))));

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var model = ReadModel(spec);
        var window = spec.Integer("viterbiWindow", HiddenMarkovFilter.DefaultViterbiWindow);
        return new HiddenMarkovFilter(model, window);
    }

    /// <summary>Reads the model parameters of an <c>hmm</c> spec.</summary>
    public static HiddenMarkovModel ReadModel(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var pi = spec.Vector("initialProbabilities");
        var (a, rows, columns) = spec.Matrix("transition");
        if (rows != pi.Length || columns != pi.Length)
        {
            throw spec.Error("transition", $"must be {pi.Length}x{pi.Length} (one row and column per state in initialProbabilities), got {rows}x{columns}.");
        }

        var emission = ReadEmission(spec.Object("emission"), pi.Length);
        return new HiddenMarkovModel(pi, a, emission);
    }

    /// <inheritdoc />
    public FitResult FitEm(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var reader = spec.Reader();
        var model = ReadModel(reader);
        reader.Integer("viterbiWindow", HiddenMarkovFilter.DefaultViterbiWindow);
        reader.EnsureAllFieldsKnown();
        var result = BaumWelch.Fit(model, sequences, parameters, options);
        var root = JsonNode.Parse(spec.Json.GetRawText())!.AsObject();
        var fitted = result.Model;
        CheckFittedVariances(fitted.Emission);
        var k = fitted.StateCount;
        root["initialProbabilities"] = HmmEmission.ToJson(fitted.InitialProbabilities);
        root["transition"] = HmmEmission.ToJson(fitted.Transition, k, k);
        var emission = new JsonObject();
        fitted.Emission.WriteSpec(emission);
        root["emission"] = emission;
        return new FitResult(root, result.LogLikelihood, result.Iterations, result.Converged, "em");
    }

    /// <summary>
    /// Fails the fit when an estimated variance is above <see cref="Validate.MaxVariance"/> (readings of about 1e150 or
    /// more): the spec would be refused by <c>run</c>, whose filter overflows adding such a variance to another.
    /// </summary>
    private static void CheckFittedVariances(HmmEmission emission)
    {
        var (field, values, size) = emission switch
        {
            GaussianEmission g => ("emission.variances", g.Variances.ToArray(), 1),
            MultivariateGaussianEmission mv => ("emission.covariances", mv.Covariances.ToArray(), mv.ObservationDimension * mv.ObservationDimension),
            _ => (string.Empty, Array.Empty<double>(), 1),
        };
        for (var i = 0; i < values.Length; i++)
        {
            if (Math.Abs(values[i]) > Validate.MaxVariance)
            {
                var d = (int)Math.Round(Math.Sqrt(size));
                var where = size == 1
                    ? string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]")
                    : string.Create(CultureInfo.InvariantCulture, $"{field}[{i / size}][{i % size / d}][{i % d}]");
                throw new ModelValidationException("fit", Validate.FittedVarianceTooLarge(where, values[i], Validate.MaxVariance));
            }
        }
    }

    private static HmmEmission ReadEmission(SpecReader e, int k)
    {
        var type = e.String("type");
        try
        {
            switch (type)
            {
                case "gaussian":
                    var gaussianMeans = e.Vector("means");
                    var variances = e.Vector("variances");
                    Validate.AtMostMaxVariance(e.FieldPath("variances"), variances);
                    return new GaussianEmission(gaussianMeans, variances);
                case "multivariate-gaussian":
                    var (means, rows, dimension) = e.Matrix("means");
                    if (rows != k)
                    {
                        throw e.Error("means", $"must have {k} rows (one per state), got {rows}.");
                    }

                    return new MultivariateGaussianEmission(means, ReadMatrices(e, "covariances", k, dimension), dimension);
                case "categorical":
                    var (probabilities, pr, categories) = e.Matrix("probabilities");
                    if (pr != k)
                    {
                        throw e.Error("probabilities", $"must have {k} rows (one per state), got {pr}.");
                    }

                    return new CategoricalEmission(probabilities, categories);
                case "poisson":
                    return new PoissonEmission(e.Vector("rates"));
                case "student-t":
                    return new StudentTEmission(e.Vector("locations"), e.Vector("scales"), e.Vector("degreesOfFreedom"));
                default:
                    throw e.Error("type", $"unknown emission type '{type}' (known: gaussian, multivariate-gaussian, categorical, poisson, student-t).");
            }
        }
        catch (ModelValidationException ex) when (!ex.Field.StartsWith(e.Path, StringComparison.Ordinal))
        {
            throw ex.WithPrefix(e.Path);
        }
    }

    /// <summary>Reads an array of <paramref name="count"/> d×d matrices, naming the exact element on errors.</summary>
    private static double[] ReadMatrices(SpecReader e, string name, int count, int d)
    {
        e.Allow(name);
        var path = e.FieldPath(name);
        if (!e.Element.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            throw new ModelValidationException(path, $"is required ({count} matrices of {d}x{d}, one per state).");
        }

        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() != count)
        {
            throw new ModelValidationException(path, $"must be an array of {count} matrices of {d}x{d} (one per state).");
        }

        var values = new double[count * d * d];
        var s = 0;
        foreach (var matrix in array.EnumerateArray())
        {
            if (matrix.ValueKind != JsonValueKind.Array || matrix.GetArrayLength() != d)
            {
                throw new ModelValidationException($"{path}[{s}]", $"must be a {d}x{d} matrix (an array of {d} rows).");
            }

            var i = 0;
            foreach (var row in matrix.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != d)
                {
                    throw new ModelValidationException($"{path}[{s}][{i}]", $"must be a row of {d} numbers.");
                }

                var j = 0;
                foreach (var item in row.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out var v) || !double.IsFinite(v))
                    {
                        throw new ModelValidationException($"{path}[{s}][{i}][{j}]", "must be a finite number.");
                    }

                    values[(s * d * d) + (i * d) + j] = v;
                    j++;
                }

                i++;
            }

            Validate.AtMostMaxVariance($"{path}[{s}]", values.AsSpan(s * d * d, d * d), d);
            s++;
        }

        return values;
    }
}
