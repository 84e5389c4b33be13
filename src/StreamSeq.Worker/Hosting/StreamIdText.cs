using System.Globalization;
using System.Text;
using System.Text.Unicode;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Stream ids as HTTP requests carry them (the rest of an <c>/api/streams/</c> path, a dashboard <c>?id=</c>),
/// percent-decoded strictly: a malformed escape or bytes that are not UTF-8 are refused instead of being kept as
/// literal text (the lenient decoders of .NET leave <c>%FF</c> as the three characters <c>%FF</c>, which could then
/// name another stream). Ids the worker can never hold (empty, NUL-led, longer than a Kafka key may be) are refused too.
/// </summary>
public static class StreamIdText
{
    /// <summary>Decodes <paramref name="raw"/> (as sent, still percent-encoded); <paramref name="plusIsSpace"/> for query values.</summary>
    /// <returns>The id, or null with <paramref name="problem"/> saying why it is not one (naming <paramref name="name"/>).</returns>
    public static string? Decode(string raw, string name, bool plusIsSpace, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var bytes = new List<byte>(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '%')
            {
                if (i + 2 >= raw.Length || !IsHex(raw[i + 1]) || !IsHex(raw[i + 2]))
                {
                    problem = $"{name}: '%' at position {i} is not followed by two hexadecimal digits (write '%25' for a percent sign).";
                    return null;
                }

                bytes.Add(byte.Parse(raw.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else if (c == '+' && plusIsSpace)
            {
                bytes.Add((byte)' ');
            }
            else
            {
                // Unencoded text (request targets are ASCII; anything else is taken as UTF-8).
                var end = i;
                while (end < raw.Length && raw[end] != '%' && !(plusIsSpace && raw[end] == '+'))
                {
                    end++;
                }

                bytes.AddRange(Encoding.UTF8.GetBytes(raw, i, end - i));
                i = end - 1;
            }

            if (bytes.Count > ChangelogKeys.MaxStreamIdBytes)
            {
                problem = string.Create(CultureInfo.InvariantCulture, $"{name}: longer than {ChangelogKeys.MaxStreamIdBytes} bytes, the longest stream id (Kafka key) the worker accepts.");
                return null;
            }
        }

        var decoded = bytes.ToArray();
        if (!Utf8.IsValid(decoded))
        {
            problem = $"{name}: not valid UTF-8 once percent-decoded; stream ids are UTF-8 text.";
            return null;
        }

        var id = Encoding.UTF8.GetString(decoded);
        if (id.Length == 0)
        {
            problem = $"{name}: missing; give a stream id.";
            return null;
        }

        if (!ChangelogKeys.IsValidStreamId(id))
        {
            problem = $"{name}: stream ids never start with a NUL character.";
            return null;
        }

        problem = null;
        return id;
    }

    /// <summary>The raw (still encoded) values of query parameter <paramref name="name"/> in a query string (<c>?a=b&amp;...</c>).</summary>
    public static List<string> RawQueryValues(string? queryString, string name)
    {
        var values = new List<string>();
        if (string.IsNullOrEmpty(queryString))
        {
            return values;
        }

        foreach (var pair in queryString.TrimStart('?').Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? pair : pair[..eq];
            if (string.Equals(Uri.UnescapeDataString(key.Replace('+', ' ')), name, StringComparison.OrdinalIgnoreCase))
            {
                values.Add(eq < 0 ? string.Empty : pair[(eq + 1)..]);
            }
        }

        return values;
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);
}
