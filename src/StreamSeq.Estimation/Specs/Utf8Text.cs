using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace StreamSeq.Estimation.Specs;

/// <summary>
/// Strict UTF-8 for the files and records users write: text that is not UTF-8 is refused with the byte that is not,
/// instead of being decoded with U+FFFD in its place (which turned a Latin-1 'é' in a name into a different name).
/// </summary>
public static class Utf8Text
{
    /// <summary>The UTF-8 byte-order mark some editors put first; it is not part of the text.</summary>
    public static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary>The index of the first byte of the first sequence that is not UTF-8, or -1 when all of it is.</summary>
    public static int FirstInvalid(ReadOnlySpan<byte> text)
    {
        if (Utf8.IsValid(text))
        {
            return -1;
        }

        var at = 0;
        while (at < text.Length && Rune.DecodeFromUtf8(text[at..], out _, out var consumed) == OperationStatus.Done)
        {
            at += consumed;
        }

        return at;
    }

    /// <summary>
    /// Null when <paramref name="text"/> is UTF-8; otherwise the first byte that is not, and where, counting from 1 and
    /// from <paramref name="offset"/> bytes before <paramref name="text"/> (<c>0xE9 at byte 13 is not UTF-8</c>).
    /// </summary>
    public static string? Problem(ReadOnlySpan<byte> text, int offset = 0) =>
        FirstInvalid(text) is var at and >= 0 ? $"0x{text[at]:X2} at byte {offset + at + 1} is not UTF-8" : null;

    /// <summary>
    /// Where <paramref name="element"/> holds a string or field name that is not Unicode text, or null when it holds
    /// none: an unpaired surrogate escape (<c>"\ud800"</c>), which no .NET string can hold, or bytes that are not UTF-8
    /// inside a string (the JSON reader leaves those to be found when the string is read). Reading such a string throws
    /// <see cref="InvalidOperationException"/> wherever it happens (even comparing names), so a parser checks a
    /// document it failed on with this to report the field instead.
    /// </summary>
    /// <param name="element">The document or part of it.</param>
    /// <param name="path">The path of <paramref name="element"/> (empty: the top level).</param>
    /// <returns>The path of the string (<c>observationNoise[0][0]</c>) or <c>a field name in path</c>; null when all is text.</returns>
    public static string? FirstNonUnicode(JsonElement element, string path = "")
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path.Length == 0 ? "the top-level string" : path;
                }

            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path.Length == 0 ? "a top-level field name" : $"a field name in {path}";
                    }

                    if (FirstNonUnicode(property.Value, path.Length == 0 ? name : $"{path}.{name}") is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstNonUnicode(item, $"{path}[{i++}]") is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                return null;
        }
    }
}
