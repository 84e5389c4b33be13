using System.Globalization;

namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>The values a learned variance may start a stream from (a parameter table's row).</summary>
internal static class StartValues
{
    /// <summary>
    /// The largest, the bound a spec's variances have (<see cref="Numerics.Validate.MaxVariance"/>): above it the
    /// first sum of two variances overflowed, so that every later record of the stream carried "Infinity" variances
    /// (and a later parameter table a null sd).
    /// </summary>
    public const double Max = Numerics.Validate.MaxVariance;

    /// <summary>Why <paramref name="value"/> cannot start a stream, or null when it can.</summary>
    public static string? Problem(double value) =>
        !(value > 0.0) || !double.IsFinite(value) ? $"must be a positive finite number to start a stream, got {Show(value)}."
        : value > Max ? $"must be at most {Show(Max)} to start a stream (a larger variance overflows when the filter adds it to another), got {Show(value)}."
        : null;

    private static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
