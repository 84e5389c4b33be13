using System.Globalization;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Numerics;

/// <summary>Parameter checks that throw <see cref="ModelValidationException"/> naming the spec field.</summary>
public static class Validate
{
    /// <summary>
    /// The largest variance a model may hold: a filter adds variances to each other, and one above half the largest
    /// double made the first sum infinite, so that every later record carried "Infinity" variances. 1e300 leaves room
    /// for 10⁸ such additions.
    /// </summary>
    public const double MaxVariance = 1e300;

    /// <summary>A variance (or a variance rate) of at most <see cref="MaxVariance"/>; NaN and negative values are
    /// left to the sign checks.</summary>
    public static void AtMostMaxVariance(string field, double value)
    {
        if (value > MaxVariance)
        {
            throw new ModelValidationException(field, VarianceTooLarge(MaxVariance, value, "a larger variance overflows when the filter adds it to another"));
        }
    }

    /// <summary>Every entry of a vector of variances at most <see cref="MaxVariance"/>; errors name
    /// <c>field[i]</c>.</summary>
    public static void AtMostMaxVariance(string field, ReadOnlySpan<double> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            AtMostMaxVariance(string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]"), values[i]);
        }
    }

    /// <summary>
    /// Every entry of an n×n covariance (row-major) at most <see cref="MaxVariance"/> in size; errors name
    /// <c>field[i][j]</c>. Call before <see cref="Covariance"/>, whose eigenvalues of such a matrix would overflow.
    /// </summary>
    public static void AtMostMaxVariance(string field, ReadOnlySpan<double> p, int n)
    {
        for (var i = 0; i < p.Length; i++)
        {
            if (Math.Abs(p[i]) > MaxVariance)
            {
                throw new ModelValidationException(
                    string.Create(CultureInfo.InvariantCulture, $"{field}[{i / n}][{i % n}]"),
                    VarianceTooLarge(MaxVariance, p[i], "a larger variance overflows when the filter adds it to another"));
            }
        }
    }

    /// <summary>The largest standard deviation (or volatility) a model may hold: √<see cref="MaxVariance"/>.</summary>
    internal const double MaxDeviation = 1e150;

    /// <summary>A standard deviation (or volatility) whose square is a variance: at most <see cref="MaxDeviation"/>.</summary>
    public static void AtMostMaxDeviation(string field, double value)
    {
        if (value > MaxDeviation)
        {
            throw new ModelValidationException(field, VarianceTooLarge(MaxDeviation, value, $"its square is a variance, at most {Show(MaxVariance)}"));
        }
    }

    /// <summary>Why a fit cannot write an estimate above the bound a spec's variance has.</summary>
    internal static string FittedVarianceTooLarge(string where, double value, double most) =>
        $"the estimate of {where} is {Show(value)}, above the most a spec may hold ({Show(most)}; a filter overflows adding a larger variance to another), so run would refuse the fitted spec; rescale the readings (for example to other units) and fit again.";

    private static string VarianceTooLarge(double most, double value, string why) => $"must be at most {Show(most)} ({why}), got {Show(value)}.";

    private static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Every element finite.</summary>
    public static void Finite(string field, ReadOnlySpan<double> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new ModelValidationException(field, $"element {i} is {values[i]}; every element must be a finite number.");
            }
        }
    }

    /// <summary>A strictly positive finite scalar.</summary>
    public static void Positive(string field, double value)
    {
        if (!(value > 0.0) || !double.IsFinite(value))
        {
            throw new ModelValidationException(field, $"must be a positive finite number, got {value}.");
        }
    }

    /// <summary>A non-negative finite scalar.</summary>
    public static void NonNegative(string field, double value)
    {
        if (!(value >= 0.0) || !double.IsFinite(value))
        {
            throw new ModelValidationException(field, $"must be a non-negative finite number, got {value}.");
        }
    }

    /// <summary>A length check with a message that states the expected shape.</summary>
    public static void Length(string field, ReadOnlySpan<double> values, int expected, string shape)
    {
        if (values.Length != expected)
        {
            throw new ModelValidationException(field, $"must be {shape} ({expected} numbers), got {values.Length} numbers.");
        }
    }

    /// <summary>A symmetric positive semi-definite covariance (n×n, row-major).</summary>
    public static void Covariance(string field, ReadOnlySpan<double> p, int n)
    {
        Length(field, p, n * n, $"{n}x{n}");
        Finite(field, p);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                var a = p[(i * n) + j];
                var b = p[(j * n) + i];
                if (Math.Abs(a - b) > 1e-9 * Math.Max(1.0, Math.Max(Math.Abs(a), Math.Abs(b))))
                {
                    throw new ModelValidationException(field, $"is not symmetric: [{i}][{j}] = {a} but [{j}][{i}] = {b}.");
                }
            }
        }

        var work = p.ToArray();
        var values = new double[n];
        var vectors = new double[n * n];
        Dense.SymmetricEigen(work, n, values, vectors);
        var scale = 0.0;
        for (var i = 0; i < n; i++)
        {
            scale = Math.Max(scale, Math.Abs(p[(i * n) + i]));
        }

        foreach (var v in values)
        {
            if (v < -1e-10 * Math.Max(scale, 1e-300))
            {
                throw new ModelValidationException(field, $"is not positive semi-definite (an eigenvalue is {v:G6}); a covariance needs non-negative eigenvalues.");
            }
        }
    }
}
