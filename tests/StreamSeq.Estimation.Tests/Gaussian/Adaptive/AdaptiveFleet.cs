using System.Globalization;
using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian.Adaptive;

/// <summary>
/// A simulated fleet for the accuracy targets: every stream has its own noise parameters, drawn log-uniformly over two
/// orders of magnitude around a centre (×10^U(−1, 1)), irregular gaps (70 % one time unit, 30 % exponential with mean
/// 2) and each component missing with probability 0.1. Streams start from an exact diffuse prior, as presets do.
/// </summary>
internal sealed class AdaptiveFleet
{
    private readonly string template;
    private readonly string[] names;
    private readonly double[] centre;

    /// <param name="template">The spec with a {i} placeholder per parameter (observationNoise entries included).</param>
    /// <param name="names">The <c>adapt</c> names (and the <c>fit --fit</c> names).</param>
    /// <param name="centre">The centre of each placeholder.</param>
    /// <param name="observationDimension">m.</param>
    public AdaptiveFleet(string template, string[] names, double[] centre, int observationDimension)
    {
        this.template = template;
        this.names = names;
        this.centre = centre;
        Dimension = observationDimension;
    }

    public int Dimension { get; }

    public string[] Names => names;

    /// <summary>The spec with <paramref name="values"/> in its placeholders and optional extra fields.</summary>
    public ModelSpec Spec(double[] values, string extra = "")
    {
        var text = template;
        for (var i = 0; i < values.Length; i++)
        {
            text = text.Replace($"{{{i}}}", values[i].ToString("R", CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        return ModelSpec.Parse(text.Replace("{extra}", extra, StringComparison.Ordinal));
    }

    /// <summary>Streams with their own true parameter values.</summary>
    public List<(double[] Truth, ObservationSeries Series)> Streams(int count, int length, int seed)
    {
        var rng = new Random(seed);
        var streams = new List<(double[], ObservationSeries)>();
        for (var s = 0; s < count; s++)
        {
            var truth = centre.Select(c => c * Math.Pow(10.0, (2.0 * rng.NextDouble()) - 1.0)).ToArray();
            var model = LinearGaussianKind.BuildModel(Spec(truth).Reader());
            var gaps = new double[length];
            for (var t = 0; t < length; t++)
            {
                gaps[t] = rng.NextDouble() < 0.7 ? 1.0 : Math.Max(0.05, -2.0 * Math.Log(1.0 - rng.NextDouble()));
            }

            streams.Add((truth, GaussianSimulation.Simulate(model, length, rng, missing: 0.1, gaps: gaps)));
        }

        return streams;
    }

    /// <summary>One parameter set for the whole fleet by the project's maximum likelihood on pooled streams.</summary>
    public double[] FitPooled(IReadOnlyList<ObservationSeries> training)
    {
        var fitted = MaximumLikelihood.Fit(Spec(centre), training, names).Spec;
        return Read(fitted);
    }

    /// <summary>Mean log predictive density per reading with at least one observed value, from reading
    /// <paramref name="burnIn"/> on.</summary>
    public static double MeanLogPredictive(IEstimator estimator, ObservationSeries series, int burnIn, Action<int, Estimate, double[]>? watch = null)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        double sum = 0;
        var count = 0;
        for (var t = 0; t < series.Length; t++)
        {
            estimator.Step(state, series.At(t), estimate, default);
            watch?.Invoke(t, estimate, state);
            if (t >= burnIn && !double.IsNaN(estimate.LogLikelihood))
            {
                sum += estimate.LogLikelihood;
                count++;
            }
        }

        return sum / count;
    }

    private double[] Read(JsonObject spec)
    {
        // The placeholders in template order: find each fitted value by its name.
        var values = new List<double>();
        foreach (var name in names)
        {
            if (name == "observationNoise")
            {
                var r = spec["observationNoise"]!.AsArray();
                for (var i = 0; i < Dimension; i++)
                {
                    values.Add(r[i]![i]!.GetValue<double>());
                }
            }
            else
            {
                var dot = name.IndexOf('.', StringComparison.Ordinal);
                var index = int.Parse(name[(name.IndexOf('[', StringComparison.Ordinal) + 1)..name.IndexOf(']', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                values.Add(spec["components"]![index]![name[(dot + 1)..]]!.GetValue<double>());
            }
        }

        return [.. values];
    }
}
