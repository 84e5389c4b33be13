using System.Text.Json;

namespace StreamSeq.Processing.Records;

/// <summary>Messages of the JSON parser said for users: where it stopped, without its 0-based line and option advice.</summary>
internal static class JsonErrors
{
    /// <summary>" at byte B: message" (or ": message" when the parser gave no position), for one-line records.</summary>
    public static string Describe(JsonException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var text = e.Message;
        var cut = text.IndexOf(" LineNumber:", StringComparison.Ordinal);
        text = (cut >= 0 ? text[..cut] : text).Replace(" Change the reader options.", string.Empty, StringComparison.Ordinal);
        return e.BytePositionInLine is { } b ? $" at byte {b + 1}: {text}" : $": {text}";
    }
}
