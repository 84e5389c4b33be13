using System.Globalization;

namespace StreamSeq.Processing.Records;

/// <summary>
/// A record's event time: a number plus how it was written. ISO-8601 and epoch times hold epoch milliseconds;
/// <see cref="TimeFormat.ModelUnits"/> times hold model time units directly.
/// </summary>
/// <param name="Value">Epoch milliseconds, or model time units for <see cref="TimeFormat.ModelUnits"/>.</param>
/// <param name="Format">How the time was written.</param>
public readonly record struct RecordTime(double Value, TimeFormat Format)
{
    /// <summary>The time in model units, given the model's time unit in milliseconds.</summary>
    public double ToModelTime(double unitMilliseconds) =>
        Format == TimeFormat.ModelUnits ? Value : Value / unitMilliseconds;

    /// <summary>A time <paramref name="modelDelta"/> model units later, in the same format.</summary>
    public RecordTime AddModelTime(double modelDelta, double unitMilliseconds) =>
        new(Format == TimeFormat.ModelUnits ? Value + modelDelta : Value + (modelDelta * unitMilliseconds), Format);

    /// <summary>Parses an ISO-8601 date-time (offset or Z; a missing offset means UTC).</summary>
    public static bool TryParseIso(ReadOnlySpan<char> text, out RecordTime time)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto))
        {
            time = new RecordTime((dto.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerMillisecond, TimeFormat.Iso8601);
            return true;
        }

        time = default;
        return false;
    }

    /// <summary>
    /// Writes an ISO-8601 UTC string into <paramref name="destination"/>: whole seconds, milliseconds or microseconds,
    /// whichever is exact. Times are kept as double epoch milliseconds, which resolves about 0.2 µs today, so
    /// microseconds are the finest precision that round-trips.
    /// </summary>
    public int FormatIso(Span<char> destination)
    {
        var micros = (long)Math.Round(Value * 1000.0);
        var ticks = DateTimeOffset.UnixEpoch.UtcTicks + (micros * 10);
        var dto = new DateTimeOffset(ticks, TimeSpan.Zero);
        var fraction = ticks % TimeSpan.TicksPerSecond;
        var format = fraction == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'"
            : fraction % 10_000 == 0 ? "yyyy-MM-dd'T'HH:mm:ss.fff'Z'"
            : "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
        dto.TryFormat(destination, out var written, format, CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>The ISO-8601 text of <see cref="FormatIso"/>.</summary>
    internal string IsoText()
    {
        Span<char> text = stackalloc char[40];
        return text[..FormatIso(text)].ToString();
    }

    /// <summary>
    /// The time as its record gave it, for messages; epoch milliseconds with the instant they stand for when it is a
    /// date-time the records can carry (<c>-5 (1969-12-31T23:59:59.995Z)</c>), so a refused time says when it is.
    /// </summary>
    internal string Describe()
    {
        if (Format == TimeFormat.Iso8601)
        {
            return IsoText();
        }

        var number = Value.ToString("R", CultureInfo.InvariantCulture);
        return Format == TimeFormat.EpochMilliseconds && InputRules.CanWrite(this) ? $"{number} ({IsoText()})" : number;
    }
}
