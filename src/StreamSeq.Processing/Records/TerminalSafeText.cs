using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace StreamSeq.Processing.Records;

/// <summary>
/// What StreamSeq never prints raw, so that text from records and files cannot drive a terminal: control characters
/// (C0, DEL, C1: escape sequences, cursor moves, window titles) and the bidirectional controls that make text display
/// in another order than it is stored (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, "Trojan Source").
/// JSON written with <see cref="OutputRecordWriter.JsonOptions"/> escapes all of them (<c>\u009B</c>, <c>\u202E</c>),
/// so it still parses back to the same text.
/// </summary>
public static class TerminalSafeText
{
    private static readonly System.Text.Json.JsonSerializerOptions QuoteOptions = new() { Encoder = TerminalSafeJsonEncoder.Instance };

    private static readonly SearchValues<byte> Suspect = SearchValues.Create(
        [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,
         0x7F, 0xC2, 0xD8, 0xE2]);

    /// <summary>
    /// <paramref name="text"/> as a JSON string, for quoting a stream id or another name taken from data in a message:
    /// in double quotes, with quotes, backslashes, control characters, U+2028/U+2029 and the bidirectional controls
    /// escaped, and nothing else changed. Unlike <c>'...'</c>, which an id holding an apostrophe makes ambiguous, the
    /// quoted text always ends at the first unescaped <c>"</c>.
    /// </summary>
    public static string Quote(string text) =>
        System.Text.Json.JsonSerializer.Serialize(text, QuoteOptions);

    /// <summary>
    /// <paramref name="text"/> with every character a terminal would act on or that would reorder the line shown as an
    /// escape: C0 (line ends included, so the text stays one line), DEL and C1 as <c>\xNN</c>; U+FFFD (an undecodable
    /// byte), U+2028/U+2029 and the bidirectional controls as <c>\uNNNN</c>. Text without any is returned as it is;
    /// text longer than <paramref name="maxLength"/> is cut there and ends in "...".
    /// </summary>
    /// <remarks>
    /// For showing text to a person (a terminal line, a console log), never for storing it: the escapes are not undone,
    /// so data keeps its exact text and only how it is shown changes.
    /// </remarks>
    public static string Escape(string? text, int maxLength = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var first = IndexOfEscape(text);
        if (first < 0 && text.Length <= maxLength)
        {
            return text;
        }

        first = first < 0 ? maxLength : Math.Min(first, maxLength);
        var sb = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        sb.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            if (sb.Length >= maxLength)
            {
                sb.Append("...");
                break;
            }

            var c = text[i];
            if (NeedsEscape(c) && c <= 0xFF)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            }
            else if (NeedsEscape(c))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>Whether <paramref name="codePoint"/> is a bidirectional formatting control (mark, embedding, override or isolate).</summary>
    public static bool IsBidiControl(int codePoint) =>
        codePoint is 0x061C or 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069);

    /// <summary>
    /// Whether <paramref name="utf8"/> is valid UTF-8 holding no control character (C0 including tab and line ends,
    /// DEL, C1), no bidirectional control and no line or paragraph separator: bytes that can go to a terminal as they are.
    /// </summary>
    public static bool IsSafeUtf8(ReadOnlySpan<byte> utf8)
    {
        // Every character in question is below 0x20, 0x7F, or starts with 0xC2 (C1), 0xD8 (U+061C) or 0xE2 (U+2xxx).
        var rest = utf8;
        int at;
        while ((at = rest.IndexOfAny(Suspect)) >= 0)
        {
            var lead = rest[at];
            if (lead < 0x20 || lead == 0x7F || IndexOfUnsafeSequence(rest[at..]) == 0)
            {
                return false;
            }

            rest = rest[(at + 1)..];
        }

        return Utf8.IsValid(utf8);
    }

    /// <summary>The first byte of a bidirectional control or line/paragraph separator in <paramref name="utf8"/>, or -1.</summary>
    internal static int IndexOfBidiUtf8(ReadOnlySpan<byte> utf8)
    {
        var offset = 0;
        int at;
        while ((at = utf8[offset..].IndexOfAny((byte)0xD8, (byte)0xE2)) >= 0)
        {
            if (IndexOfUnsafeSequence(utf8[(offset + at)..]) == 0)
            {
                return offset + at;
            }

            offset += at + 1;
        }

        return -1;
    }

    private static int IndexOfEscape(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (NeedsEscape(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || c is '\uFFFD' or '\u2028' or '\u2029' || IsBidiControl(c);

    /// <summary>0 when <paramref name="utf8"/> starts with a C1 control, a bidirectional control or U+2028/U+2029; -1 otherwise.</summary>
    private static int IndexOfUnsafeSequence(ReadOnlySpan<byte> utf8) => utf8 switch
    {
        [0xC2, >= 0x80 and <= 0x9F, ..] => 0, // C1
        [0xD8, 0x9C, ..] => 0, // U+061C
        [0xE2, 0x80, 0x8E or 0x8F or (>= 0xA8 and <= 0xAE), ..] => 0, // U+200E, U+200F, U+2028, U+2029, U+202A–U+202E
        [0xE2, 0x81, >= 0xA6 and <= 0xA9, ..] => 0, // U+2066–U+2069
        _ => -1,
    };
}
