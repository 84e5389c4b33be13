using System.Text.Json;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Processing.Records;

/// <summary>Messages of the JSON parser said for users: where it stopped, without its 0-based line and option advice.</summary>
internal static class JsonErrors
{
    /// <summary>" at byte B: message" (or ": message" when the parser gave no position), for one-line records.</summary>
    public static string Describe(JsonException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var text = JsonMessages.Problem(e);
        return e.BytePositionInLine is { } b ? $" at byte {b + 1}: {text}" : $": {text}";
    }
}
