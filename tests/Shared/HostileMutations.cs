using System.Text;
using CsCheck;

namespace StreamSeq.Testing;

/// <summary>
/// Near-valid inputs for the parsers' fuzz tests: a valid document with one to three hostile edits (truncation, a
/// duplicated range or first member, a number or string swapped for a huge, negative-zero, non-finite or unpaired-surrogate one,
/// deep nesting, a very long string, invalid UTF-8, a byte-order mark, CRLF line ends), or bytes at random. Linked into
/// the test projects that fuzz a parser (tests/Shared).
/// </summary>
internal static class HostileMutations
{
    /// <summary>Text put in place of, or next to, a token of the document.</summary>
    public static readonly string[] Tokens =
    [
        "1e309", "-1e309", "1e-400", "-0", "-0.0", "NaN", "\"NaN\"", "Infinity", "-Infinity", "\"Infinity\"", "nan",
        "123456789012345678901234567890", "18446744073709551616", "-9223372036854775809", "0x10", "1,5", "null", "true", "{}", "[]",
        "\"\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\u0000\"", "\"\\u001b[2J\"", "\"\u202E\"", "\"\u2028\"", ",", ":", "\"", "\\",
        "{", "}", "[", "]", "\r\n", "\n", "\t", "\uFEFF", "\u001b[2J", "é", "😀", "P99999999Y", "-PT1S", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
    ];

    /// <summary>Bytes that are not UTF-8 (or are, but mean trouble): a lone continuation, an overlong or truncated sequence, an encoded surrogate, a BOM, NUL.</summary>
    private static readonly byte[][] Bytes =
    [
        [0xFF], [0x80], [0xC3, 0x28], [0xC0, 0xAF], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF], [0x00],
    ];

    /// <summary>One of <paramref name="documents"/> after hostile edits, or (now and then) random bytes.</summary>
    public static Gen<byte[]> Of(params string[] documents) =>
        Gen.Frequency(
            (8, Gen.Select(Gen.OneOfConst(documents), Edit.Array[1, 3], (d, edits) => edits.Aggregate(Encoding.UTF8.GetBytes(d), (b, e) => e(b)))),
            (1, Gen.OneOfConst(documents).Select(Encoding.UTF8.GetBytes)),
            (1, Gen.Byte.Array[0, 200]));

    /// <summary>The same as text (invalid UTF-8 decoded with replacement characters, lone surrogates kept).</summary>
    public static Gen<string> TextOf(params string[] documents) =>
        Gen.Frequency(
            (9, Of(documents).Select(b => Encoding.UTF8.GetString(b))),
            (1, Gen.Select(Gen.OneOfConst(documents), Gen.Int[0, 10_000], Gen.Char['\uD800', '\uDFFF'], (d, at, c) => d.Insert(at % (d.Length + 1), c.ToString()))));

    private static Gen<Func<byte[], byte[]>> Edit =>
        Gen.Select(Gen.Int[0, 12], Gen.Int[0, 1 << 20], Gen.Int[0, 1 << 20], Gen.OneOfConst(Tokens), Gen.OneOfConst(Bytes), Gen.Int[1, 5000], (how, a, b, token, bytes, n) =>
            (Func<byte[], byte[]>)(doc =>
            {
                var at = a % (doc.Length + 1);
                var to = at + (b % (doc.Length - at + 1));
                var t = Encoding.UTF8.GetBytes(token);
                return how switch
                {
                    0 => doc[..at],
                    1 => [.. doc[..to], .. doc[at..to], .. doc[to..]],
                    2 => [.. doc[..at], .. t, .. doc[to..]],
                    3 => [.. doc[..at], .. t, .. doc[at..]],
                    4 => [.. doc[..at], .. bytes, .. doc[at..]],
                    5 => [.. Encoding.UTF8.GetPreamble(), .. doc],
                    6 => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(doc).ReplaceLineEndings("\r\n")),
                    7 => [.. doc[..at], .. Enumerable.Repeat((byte)'[', n), .. Enumerable.Repeat((byte)']', n), .. doc[at..]],
                    8 => [.. doc[..at], .. "\""u8, .. Enumerable.Repeat((byte)'a', n * 40), .. "\""u8, .. doc[at..]],
                    9 => DuplicateFirstMember(doc),
                    10 => ReplaceNumber(doc, a, t),
                    11 => ReplaceString(doc, a, t),
                    _ => [.. doc[..at], .. doc[to..]],
                };
            }));

    /// <summary>The object's first member given again right after it (<c>{"a":1,"b":2}</c> → <c>{"a":1,"a":1,"b":2}</c>).</summary>
    private static byte[] DuplicateFirstMember(byte[] doc)
    {
        var open = Array.IndexOf(doc, (byte)'{');
        var comma = open < 0 ? -1 : Array.IndexOf(doc, (byte)',', open);
        return comma < 0 ? doc : [.. doc[..(comma + 1)], .. doc[(open + 1)..(comma + 1)], .. doc[(comma + 1)..]];
    }

    /// <summary>The <paramref name="which"/>-th string of the document (a value or a name, quotes included) replaced by <paramref name="token"/>.</summary>
    private static byte[] ReplaceString(byte[] doc, int which, byte[] token)
    {
        var quotes = new List<int>();
        for (var i = 0; i < doc.Length; i++)
        {
            if (doc[i] == '"' && (i == 0 || doc[i - 1] != '\\'))
            {
                quotes.Add(i);
            }
        }

        if (quotes.Count < 2)
        {
            return doc;
        }

        var k = which % (quotes.Count / 2);
        return [.. doc[..quotes[2 * k]], .. token, .. doc[(quotes[(2 * k) + 1] + 1)..]];
    }

    /// <summary>The <paramref name="which"/>-th number of the document replaced by <paramref name="token"/>.</summary>
    private static byte[] ReplaceNumber(byte[] doc, int which, byte[] token)
    {
        var starts = new List<int>();
        for (var i = 0; i < doc.Length; i++)
        {
            if ((doc[i] is >= (byte)'0' and <= (byte)'9' or (byte)'-') && (i == 0 || doc[i - 1] is (byte)':' or (byte)'[' or (byte)',' or (byte)' '))
            {
                starts.Add(i);
            }
        }

        if (starts.Count == 0)
        {
            return doc;
        }

        var start = starts[which % starts.Count];
        var end = start + 1;
        while (end < doc.Length && doc[end] is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-')
        {
            end++;
        }

        return [.. doc[..start], .. token, .. doc[end..]];
    }
}
