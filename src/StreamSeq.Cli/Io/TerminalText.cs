using System.Text;
using StreamSeq.Processing.Records;

namespace StreamSeq.Cli.Io;

/// <summary>
/// Makes text from user files safe to print on a terminal: control characters (which could move the cursor, clear
/// the screen or retitle the window) and undecodable bytes are shown as escapes, and very long messages are cut.
/// </summary>
internal static class TerminalText
{
    /// <summary>Long enough for the longest message of the tool's own (a misspelt field's error lists every field the
    /// kind accepts and then what the misspelling left missing, over 400 characters for linear-gaussian), short enough
    /// that a line of garbage from a file stays one screen.</summary>
    private const int MaxLength = 1000;

    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var clean = true;
        foreach (var c in text)
        {
            if (NeedsEscape(c))
            {
                clean = false;
                break;
            }
        }

        if (clean && text.Length <= MaxLength)
        {
            return text;
        }

        var sb = new StringBuilder(Math.Min(text.Length, MaxLength) + 16);
        foreach (var c in text)
        {
            if (sb.Length >= MaxLength)
            {
                sb.Append("...");
                break;
            }

            if (NeedsEscape(c))
            {
                sb.Append(c <= 0xFF ? $"\\x{(int)c:X2}" : $"\\u{(int)c:X4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || c is '\uFFFD' or '\u2028' or '\u2029' || TerminalSafeText.IsBidiControl(c);
}
