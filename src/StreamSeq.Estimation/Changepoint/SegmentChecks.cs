using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>Parameter checks shared by the segment models; errors name the spec field and component.</summary>
internal static class SegmentChecks
{
    public static void Same(string field, ReadOnlySpan<double> values, int m)
    {
        if (values.Length != m)
        {
            throw new ModelValidationException(field, $"must have {m} entries (one per component), got {values.Length}.");
        }
    }

    public static void Positive(string field, ReadOnlySpan<double> values)
    {
        for (var c = 0; c < values.Length; c++)
        {
            if (!(values[c] > 0.0) || !double.IsFinite(values[c]))
            {
                throw new ModelValidationException(Name(field, c, values.Length), $"must be positive and finite, got {values[c]}.");
            }
        }
    }

    /// <summary>A variance (or a scale the segment adds squared readings to) of at most
    /// <see cref="Numerics.Validate.MaxVariance"/>.</summary>
    public static void AtMostMaxVariance(string field, ReadOnlySpan<double> values)
    {
        for (var c = 0; c < values.Length; c++)
        {
            Numerics.Validate.AtMostMaxVariance(Name(field, c, values.Length), values[c]);
        }
    }

    public static void Finite(string field, ReadOnlySpan<double> values)
    {
        for (var c = 0; c < values.Length; c++)
        {
            if (!double.IsFinite(values[c]))
            {
                throw new ModelValidationException(Name(field, c, values.Length), $"must be finite, got {values[c]}.");
            }
        }
    }

    private static string Name(string field, int c, int m) => m == 1 ? field : $"{field}[{c}]";
}
