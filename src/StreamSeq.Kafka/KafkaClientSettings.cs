using StreamSeq.Kafka.Native;

namespace StreamSeq.Kafka;

/// <summary>
/// Checks librdkafka settings (the pass-through <c>StreamSeq:Kafka:Client</c> keys, <c>--client</c> options) the way
/// librdkafka itself reads them, without creating a client or contacting a broker, so that a misspelt property or an
/// invalid value stops a start at once instead of failing later inside a client.
/// </summary>
public static class KafkaClientSettings
{
    /// <summary>Each setting librdkafka rejects, with librdkafka's reason (unknown property, invalid value).</summary>
    /// <param name="settings">Property names and values, as they would be passed to a client.</param>
    /// <returns>(name, reason) of every rejected setting, in the order given.</returns>
    public static unsafe IReadOnlyList<KeyValuePair<string, string>> FindInvalid(IEnumerable<KeyValuePair<string, string>> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        KafkaNative.EnsureLoaded();
        var problems = new List<KeyValuePair<string, string>>();
        byte* errorText = stackalloc byte[LibrdkafkaNative.ErrorTextSize];
        foreach (var (name, value) in settings)
        {
            // A fresh configuration per setting: each is judged on its own, as librdkafka judges it in any client.
            var conf = LibrdkafkaNative.ConfNew();
            try
            {
                if (LibrdkafkaNative.ConfSet(conf, name, value ?? string.Empty, errorText, LibrdkafkaNative.ErrorTextSize) != LibrdkafkaNative.ConfOk)
                {
                    problems.Add(new(name, LibrdkafkaNative.ReadErrorText(errorText)));
                }
            }
            finally
            {
                LibrdkafkaNative.ConfDestroy(conf);
            }
        }

        return problems;
    }
}
