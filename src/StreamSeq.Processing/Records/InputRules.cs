using System.Globalization;

namespace StreamSeq.Processing.Records;

/// <summary>
/// The one set of rules for input readings and times, shared by the worker's decoder, the CSV reader of <c>run</c>
/// and <c>fit</c>, and <c>detect</c>: a missing reading is an empty cell, <c>NaN</c> (any case, as numpy and pandas
/// write it) or JSON <c>null</c>, and nothing else; every other text must be a finite number, so <c>1e999</c>,
/// <c>Infinity</c>, <c>-inf</c> or <c>abc</c> are rejected with a reason, never read as missing or as zero.
/// </summary>
/// <remarks>
/// Times are a finite number (model time units in files, epoch milliseconds in Kafka) or an ISO-8601 date-time.
/// Times written as dates must lie within 0001-01-01 and 9999-12-31T23:59:59.999Z, and so must every time the
/// processor derives from them (forecast times): a record whose forecasts would leave that range is rejected as
/// <see cref="DeadLetterReason.TimeOutOfRange"/> rather than failing while its outputs are written.
/// </remarks>
public static class InputRules
{
    /// <summary>0001-01-01T00:00:00Z in epoch milliseconds, the earliest time that can be written as a date.</summary>
    public const double MinEpochMilliseconds = -62_135_596_800_000.0;

    /// <summary>9999-12-31T23:59:59.999Z in epoch milliseconds, the latest time that can be written as a date.</summary>
    public const double MaxEpochMilliseconds = 253_402_300_799_999.0;

    /// <summary>
    /// Longest stream id, in bytes of UTF-8, whatever the input: a CSV file's <c>stream</c> column, a JSON record's
    /// <c>stream</c> field, a Kafka key. So a file and a live stream take the same ids, and every id a file takes can
    /// be replayed as a key.
    /// </summary>
    public const int MaxStreamIdBytes = 1024;

    /// <summary>
    /// Null when <paramref name="id"/> is within <see cref="MaxStreamIdBytes"/>, else the problem, after
    /// <paramref name="what"/> ("column 'stream'").
    /// </summary>
    internal static string? StreamIdTooLong(ReadOnlySpan<char> id, string what)
    {
        // UTF-8 never takes fewer bytes than UTF-16 characters: a short id needs no count.
        if (id.Length <= MaxStreamIdBytes / 3)
        {
            return null;
        }

        return System.Text.Encoding.UTF8.GetByteCount(id) <= MaxStreamIdBytes ? null : $"{what} is longer than {MaxStreamIdBytes} bytes in UTF-8.";
    }

    /// <summary>True when <paramref name="cell"/> (already trimmed) marks a missing reading: empty or <c>NaN</c>.</summary>
    public static bool IsMissing(ReadOnlySpan<char> cell) =>
        cell.IsEmpty || cell.Equals("NaN", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses one reading from text (a CSV cell).</summary>
    /// <param name="cell">The cell; surrounding white space is ignored.</param>
    /// <param name="value">The reading, NaN when missing.</param>
    /// <param name="problem">Why the cell is not a reading (null when it is).</param>
    /// <returns>False when the cell is neither missing nor a finite number.</returns>
    public static bool TryParseReading(ReadOnlySpan<char> cell, out double value, out string? problem)
    {
        cell = cell.Trim();
        problem = null;
        if (cell.Contains('\0'))
        {
            // double.TryParse ignores trailing NULs, which would read a corrupted "1\0" as 1.
            value = double.NaN;
            problem = "contains a NUL byte";
            return false;
        }

        if (IsMissing(cell))
        {
            value = double.NaN;
            return true;
        }

        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            if (double.IsFinite(value))
            {
                return true;
            }

            problem = IsInfinityLiteral(cell)
                ? $"'{cell}' is not a finite number (missing readings are empty or NaN)"
                : $"'{cell}' is out of the range of a double";
            value = double.NaN;
            return false;
        }

        problem = HasUndecodable(cell)
            ? NotUtf8
            : IsInfinityLiteral(cell)
            ? $"'{cell}' is not a finite number (missing readings are empty or NaN)"
            : $"'{cell}' is not a number";
        value = double.NaN;
        return false;
    }

    /// <summary>
    /// What a text reader decodes a byte that is not UTF-8 to. No number or time holds it, so a cell that does and is
    /// rejected is said to be not UTF-8 (checked only once the cell is rejected): quoting the replacement characters
    /// back, as <c>'\uFFFD\uFFFD' is not a number</c>, did not say what is wrong with the file.
    /// </summary>
    private const char Undecodable = '\uFFFD';

    /// <summary>The problem text for a rejected cell that held bytes that are not UTF-8.</summary>
    internal const string NotUtf8 = "is not valid UTF-8";

    /// <summary>Whether a rejected cell held bytes that are not UTF-8 (decoded to <see cref="Undecodable"/>).</summary>
    internal static bool HasUndecodable(ReadOnlySpan<char> cell) => cell.Contains(Undecodable);

    /// <summary>Parses a time from text: a finite number in model time units, or an ISO-8601 date-time.</summary>
    /// <param name="text">The text; surrounding white space is ignored.</param>
    /// <param name="time">The time.</param>
    /// <param name="problem">Why the text is not a time (null when it is).</param>
    public static bool TryParseTime(ReadOnlySpan<char> text, out RecordTime time, out string? problem)
    {
        text = text.Trim();
        problem = null;
        if (text.Contains('\0'))
        {
            time = default;
            problem = "contains a NUL byte";
            return false;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var numeric))
        {
            if (InexactTime(numeric, text) is { } inexact)
            {
                time = default;
                problem = $"'{text}' {inexact}";
                return false;
            }

            if (double.IsFinite(numeric))
            {
                time = new RecordTime(numeric, TimeFormat.ModelUnits);
                return true;
            }

            time = default;
            problem = $"'{text}' is not a finite time";
            return false;
        }

        if (RecordTime.TryParseIso(text, out time) && IsWritable(time))
        {
            return true;
        }

        problem = text.IsEmpty ? "is empty (a time is required)" : HasUndecodable(text) ? NotUtf8 : $"'{text}' is neither a number nor an ISO-8601 date-time";
        return false;
    }

    /// <summary>2^53: a double holds every whole number up to this magnitude exactly, and no odd one beyond it.</summary>
    internal const double MaxExactWholeTime = 9_007_199_254_740_992.0;

    /// <summary>
    /// Why a numeric time in model units, written without an exponent, cannot be used (null when it can): beyond 2^53
    /// neighbouring whole numbers are one double, so 9007199254740993 was read as 9007199254740992 and two rows a unit
    /// apart had one time (one dropped as a duplicate, or rejected as a conflict with a row it does not share a time
    /// with). A time written with an exponent (1e300) asks for a double and is taken as one.
    /// </summary>
    /// <param name="value">The time as parsed.</param>
    /// <param name="text">The time as written (ASCII: characters of a CSV cell or bytes of a JSON number).</param>
    internal static string? InexactTime(double value, ReadOnlySpan<char> text) =>
        Math.Abs(value) >= MaxExactWholeTime && !text.ContainsAny('e', 'E')
            && !(decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact) && Math.Abs(exact) <= 9_007_199_254_740_992m)
            ? "is beyond 2^53 (9007199254740992), the largest whole number a time holds exactly, so times a unit apart would become one; count time from a later origin or in a larger unit"
            : null;

    /// <summary>
    /// Checks that a record's time, and the forecast times it leads to, can be represented and written: finite, and
    /// for date-times within <see cref="MinEpochMilliseconds"/>..<see cref="MaxEpochMilliseconds"/>.
    /// </summary>
    /// <param name="time">The record's time.</param>
    /// <param name="lastForecastOffset">Model time from the record to its furthest forecast (0 without forecasts).</param>
    /// <param name="unitMilliseconds">The model's time unit in milliseconds.</param>
    /// <param name="problem">What is out of range.</param>
    public static bool IsInRange(RecordTime time, double lastForecastOffset, double unitMilliseconds, out string? problem)
    {
        problem = null;
        if (!double.IsFinite(time.Value))
        {
            problem = "record time is not finite.";
            return false;
        }

        var last = time.AddModelTime(lastForecastOffset, unitMilliseconds);
        if (time.Format == TimeFormat.ModelUnits)
        {
            if (!double.IsFinite(last.Value))
            {
                problem = $"forecast times after {time.Value.ToString("R", CultureInfo.InvariantCulture)} would overflow.";
                return false;
            }

            return true;
        }

        if (!IsWritable(time))
        {
            problem = $"time {time.Value.ToString("R", CultureInfo.InvariantCulture)} ms since 1970 is outside the years 1 to 9999.";
            return false;
        }

        if (!IsWritable(last))
        {
            problem = $"forecast times after this record's time {time.Value.ToString("R", CultureInfo.InvariantCulture)} ({time.IsoText()}) would fall after 9999-12-31T23:59:59.999Z.";
            return false;
        }

        return true;
    }

    /// <summary>True when an output record can carry the time: finite, and for a date-time within the years 1 to 9999.</summary>
    public static bool CanWrite(RecordTime time) =>
        time.Format == TimeFormat.ModelUnits ? double.IsFinite(time.Value) : IsWritable(time);

    /// <summary>
    /// A fingerprint of a reading's values and control input (never 0), equal for equal readings: missing components
    /// are equal to each other, and 0 equals -0. Two readings of a stream at one time are duplicates when their
    /// fingerprints are equal and a conflict otherwise.
    /// </summary>
    public static ulong Fingerprint(ReadOnlySpan<double> values, ReadOnlySpan<double> control)
    {
        var hash = 14695981039346656037UL;
        hash = Mix(hash, values);
        hash = Mix(hash ^ 0x9E3779B97F4A7C15UL, control);
        return hash == 0 ? 1 : hash;
    }

    private static ulong Mix(ulong hash, ReadOnlySpan<double> numbers)
    {
        hash = (hash ^ (ulong)numbers.Length) * 1099511628211UL;
        foreach (var v in numbers)
        {
            var bits = double.IsNaN(v) ? 0x7FF8000000000000UL : v == 0.0 ? 0UL : (ulong)BitConverter.DoubleToInt64Bits(v);
            hash = (hash ^ bits) * 1099511628211UL;
            hash ^= hash >> 29;
        }

        return hash;
    }

    /// <summary>True when a date-time (epoch milliseconds) lies within the years 1 to 9999.</summary>
    private static bool IsWritable(RecordTime time) =>
        time.Value is >= MinEpochMilliseconds and <= MaxEpochMilliseconds;

    private static bool IsInfinityLiteral(ReadOnlySpan<char> cell)
    {
        var body = cell.TrimStart("+-");
        return body.Equals("inf", StringComparison.OrdinalIgnoreCase)
            || body.Equals("infinity", StringComparison.OrdinalIgnoreCase)
            || body.SequenceEqual("∞");
    }
}
