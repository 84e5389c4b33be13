using System.ComponentModel;
using System.Globalization;
using System.Text.RegularExpressions;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Reads every duration setting of the worker in two notations: numbers with units as Kafka, Kubernetes and Go tools
/// write them (<c>100ms</c>, <c>15s</c>, <c>1m</c>, <c>1h</c>, <c>2d</c>, and sums such as <c>1h30m</c> or <c>1.5s</c>), and
/// .NET time spans (<c>00:00:00.100</c>, <c>1.00:00:00</c>). Installed for <see cref="TimeSpan"/> through
/// <see cref="TypeDescriptor"/>, which the configuration binder and the start-up checks both use, by
/// <see cref="Install"/>.
/// </summary>
/// <remarks>
/// Units are case-sensitive as in Go's <c>time.ParseDuration</c> (<c>m</c> is minutes, <c>ms</c> milliseconds), and as
/// there a bare number other than 0 is refused: .NET would read <c>30</c> as 30 days, which a setting such as
/// <c>AllowedLateness: 30</c> almost never means (the Helm chart's schema refuses it too). Negative durations are not
/// written with units.
/// </remarks>
public sealed partial class DurationConverter : TimeSpanConverter
{
    private static int installed;

    /// <summary>What a duration setting accepts, for messages.</summary>
    public const string Expected = "a duration (100ms, 15s, 1m, 1h30m, or hh:mm:ss[.fff] such as 00:00:00.250, or d.hh:mm:ss)";

    /// <summary>Makes <see cref="TimeSpan"/> settings read through this converter (once per process; later calls do nothing).</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 0)
        {
            TypeDescriptor.AddAttributes(typeof(TimeSpan), new TypeConverterAttribute(typeof(DurationConverter)));
        }
    }

    /// <summary>Parses a duration with units (<c>1h30m</c>); false for anything else.</summary>
    public static bool TryParseWithUnits(string text, out TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(text);
        duration = TimeSpan.Zero;
        var trimmed = text.Trim();
        var parts = UnitPart().Matches(trimmed);
        if (parts.Count == 0 || parts.Sum(p => p.Length) != trimmed.Length)
        {
            return false;
        }

        double milliseconds = 0;
        foreach (Match part in parts)
        {
            var value = double.Parse(part.Groups["value"].ValueSpan, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            milliseconds += value * part.Groups["unit"].Value switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => 86_400_000,
            };
        }

        if (!(milliseconds < TimeSpan.MaxValue.TotalMilliseconds))
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    /// <summary>
    /// A duration as messages show it, in the notation with units (<c>100ms</c>, <c>10m</c>, <c>1h30m</c>, <c>365d</c>,
    /// <c>0s</c>); a duration finer than a millisecond as a .NET time span.
    /// </summary>
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            return duration == TimeSpan.MinValue ? duration.ToString("c", CultureInfo.InvariantCulture) : "-" + Format(-duration);
        }

        if (duration.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            return duration.ToString("c", CultureInfo.InvariantCulture);
        }

        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new System.Text.StringBuilder();
        void Part(long amount, string unit)
        {
            if (amount > 0)
            {
                text.Append(amount.ToString(CultureInfo.InvariantCulture)).Append(unit);
            }
        }

        Part(duration.Days, "d");
        Part(duration.Hours, "h");
        Part(duration.Minutes, "m");
        Part(duration.Seconds, "s");
        Part(duration.Milliseconds, "ms");
        return text.ToString();
    }

    /// <summary>
    /// The problem with <paramref name="text"/> when it is a number without a unit (other than 0), worded for a message
    /// after the value (<c>'30' has no unit: ...</c>); null otherwise.
    /// </summary>
    public static string? MissingUnit(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (!BareNumber().IsMatch(trimmed) || !double.TryParse(trimmed, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number == 0)
        {
            return null;
        }

        return $"has no unit: write {trimmed}s, {trimmed}m, {trimmed}ms, {trimmed}h or {trimmed}d (a bare number would be read as days).";
    }

    /// <inheritdoc />
    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
    {
        if (value is string text)
        {
            if (TryParseWithUnits(text, out var duration))
            {
                return duration;
            }

            if (MissingUnit(text) is { } problem)
            {
                throw new FormatException($"'{text}' {problem}");
            }
        }

        return base.ConvertFrom(context, culture, value);
    }

    [GeneratedRegex(@"^[+-]?[0-9]+(\.[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex BareNumber();

    [GeneratedRegex(@"(?<value>[0-9]+(\.[0-9]+)?)(?<unit>ms|s|m|h|d)", RegexOptions.CultureInvariant)]
    private static partial Regex UnitPart();
}
