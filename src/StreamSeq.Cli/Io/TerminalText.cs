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

    /// <summary><paramref name="text"/> with its control and bidirectional characters escaped (<see cref="Escape"/>), cut to one screen.</summary>
    public static string Clean(string? text) => TerminalSafeText.Escape(text, MaxLength);

    /// <summary>
    /// <paramref name="text"/> with every character a terminal would act on or that would reorder the line shown as an
    /// escape (<see cref="TerminalSafeText.Escape"/>): C0 (newlines included, so the text stays one line), DEL and C1 as
    /// <c>\xNN</c>; U+FFFD (an undecodable byte), U+2028/U+2029 and the bidirectional controls as <c>\uNNNN</c>.
    /// Text without any is returned as it is.
    /// </summary>
    public static string Escape(string? text) => TerminalSafeText.Escape(text);
}
