using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Numerics;

/// <summary>Parameter checks that throw <see cref="ModelValidationException"/> naming the spec field.</summary>
public static class Validate
{
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
