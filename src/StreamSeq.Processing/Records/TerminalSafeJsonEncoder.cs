using System.Buffers;
using System.Text.Encodings.Web;

namespace StreamSeq.Processing.Records;

/// <summary>
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> (text as itself, only what JSON requires escaped: quotes,
/// backslashes, control characters, U+2028/U+2029) that also escapes the bidirectional controls of
/// <see cref="TerminalSafeText.IsBidiControl"/>. Allocation-free: one vectorised scan of what the relaxed encoder
/// leaves as it is.
/// </summary>
internal sealed class TerminalSafeJsonEncoder : JavaScriptEncoder
{
    private static readonly JavaScriptEncoder Relaxed = UnsafeRelaxedJsonEscaping;
    private static readonly SearchValues<char> Bidi = SearchValues.Create("\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    private TerminalSafeJsonEncoder()
    {
    }

    public static TerminalSafeJsonEncoder Instance { get; } = new();

    public override int MaxOutputCharactersPerInputCharacter => Relaxed.MaxOutputCharactersPerInputCharacter;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var first = Relaxed.FindFirstCharacterToEncode(text, textLength);
        var bidi = new ReadOnlySpan<char>(text, first < 0 ? textLength : first).IndexOfAny(Bidi);
        return bidi >= 0 ? bidi : first;
    }

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        var first = Relaxed.FindFirstCharacterToEncodeUtf8(utf8Text);
        var bidi = TerminalSafeText.IndexOfBidiUtf8(first < 0 ? utf8Text : utf8Text[..first]);
        return bidi >= 0 ? bidi : first;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        if (!TerminalSafeText.IsBidiControl(unicodeScalar))
        {
            return Relaxed.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);
        }

        if (bufferLength < 6)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        // \uXXXX with upper-case digits, as the relaxed encoder writes \u009B.
        const string Hex = "0123456789ABCDEF";
        buffer[0] = '\\';
        buffer[1] = 'u';
        buffer[2] = Hex[(unicodeScalar >> 12) & 0xF];
        buffer[3] = Hex[(unicodeScalar >> 8) & 0xF];
        buffer[4] = Hex[(unicodeScalar >> 4) & 0xF];
        buffer[5] = Hex[unicodeScalar & 0xF];
        numberOfCharactersWritten = 6;
        return true;
    }

    public override bool WillEncode(int unicodeScalar) => TerminalSafeText.IsBidiControl(unicodeScalar) || Relaxed.WillEncode(unicodeScalar);
}
