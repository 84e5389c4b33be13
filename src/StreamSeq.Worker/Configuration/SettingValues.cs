using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Numerics;
using System.Reflection;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Checks of single setting values, worded for the user: whether a value converts to its setting's type (as the
/// configuration binder converts it), and which validation attributes of a settings object fail, each named by its
/// full key (<c>StreamSeq:Kafka:CommitInterval</c>).
/// </summary>
internal static class SettingValues
{
    /// <summary>Null when <paramref name="value"/> converts to <paramref name="type"/>; otherwise what was expected.</summary>
    public static string? ConversionProblem(Type type, string value)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null && value.Length == 0)
        {
            return null;
        }

        var target = underlying ?? type;
        if (target == typeof(string))
        {
            return null;
        }

        if (target == typeof(TimeSpan) && DurationConverter.MissingUnit(value) is { } missingUnit)
        {
            return $"'{value}' {missingUnit}";
        }

        try
        {
            TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value);
            return null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or InvalidCastException or OverflowException)
        {
            // 99999999999 is a whole number, just not one an int holds: say so rather than "not a whole number".
            if (IntegerRange(target) is var (min, max) && BigInteger.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                return $"'{value}' is out of range (a whole number from {min} to {max}).";
            }

            return $"'{value}' is not {Expected(target)}.";
        }
    }

    private static (string Min, string Max)? IntegerRange(Type type) => type switch
    {
        _ when type == typeof(int) => (int.MinValue.ToString(CultureInfo.InvariantCulture), int.MaxValue.ToString(CultureInfo.InvariantCulture)),
        _ when type == typeof(long) => (long.MinValue.ToString(CultureInfo.InvariantCulture), long.MaxValue.ToString(CultureInfo.InvariantCulture)),
        _ when type == typeof(short) => (short.MinValue.ToString(CultureInfo.InvariantCulture), short.MaxValue.ToString(CultureInfo.InvariantCulture)),
        _ => null,
    };

    /// <summary>Every failing validation attribute of <paramref name="settings"/>, as <c>section:Property: problem</c>.</summary>
    public static IEnumerable<string> AnnotationProblems(object settings, string section)
    {
        foreach (var property in settings.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = $"{section}:{property.Name}";
            foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>(inherit: true))
            {
                var value = property.GetValue(settings);
                if (!attribute.IsValid(value))
                {
                    yield return $"{key}: {Describe(attribute, value, key)}";
                }
            }
        }
    }

    private static string Describe(ValidationAttribute attribute, object? value, string key) => attribute switch
    {
        RangeAttribute range => $"must be between {Format(range.Minimum)} and {Format(range.Maximum)}, got {Format(value)}.",
        RequiredAttribute => "must not be empty.",
        _ when attribute.ErrorMessage is { } message => $"{(message.StartsWith(key, StringComparison.OrdinalIgnoreCase) ? message[key.Length..].TrimStart() : message).TrimEnd('.')}, got {Format(value)}.",
        _ => attribute.FormatErrorMessage(key),
    };

    private static string Format(object? value) => value switch
    {
        null => "nothing",
        string s => $"'{s}'",
        TimeSpan t => DurationConverter.Format(t),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Expected(Type type) => type switch
    {
        _ when type == typeof(TimeSpan) => DurationConverter.Expected,
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "a whole number",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
        _ when type.IsEnum => $"one of {string.Join(", ", Enum.GetNames(type))}",
        _ => $"a {type.Name}",
    };
}
