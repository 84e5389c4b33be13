using System.Buffers;
using System.Text;
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
}
