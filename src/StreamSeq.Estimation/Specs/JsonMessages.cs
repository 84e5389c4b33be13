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
}
