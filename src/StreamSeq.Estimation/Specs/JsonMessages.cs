using System.Text.Json;

namespace StreamSeq.Estimation.Specs;

/// <summary>The JSON parser's messages said for users, by model specs and records alike.</summary>
public static class JsonMessages
{
    /// <summary>
    /// What <paramref name="e"/> says is wrong, without the parser's 0-based position (callers say where, counting from
    /// 1) and its advice about its own reader options.
    /// </summary>
    public static string Problem(JsonException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var text = e.Message;
        var cut = text.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut >= 0 ? text[..cut] : text).Replace(" Change the reader options.", string.Empty, StringComparison.Ordinal);
    }

    /// <summary>
    /// Where in a file <paramref name="e"/> happened, as an editor counts (from 1): <c> at line 3, byte 7</c>, or empty
    /// when the parser did not say.
    /// </summary>
    public static string Location(JsonException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.LineNumber is { } line && e.BytePositionInLine is { } b ? $" at line {line + 1}, byte {b + 1}" : string.Empty;
    }
}
