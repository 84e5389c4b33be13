using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StreamSeq.Cli.Plotting;

/// <summary>
/// File names for stream ids (<c>streamseq plot</c> into a folder), safe on Linux, macOS and Windows and never shared
/// by two ids. An id made of letters, digits, <c>-</c>, <c>_</c> and <c>.</c> (not leading with <c>-</c> or <c>.</c>,
/// at most <see cref="MaxKeptBytes"/> bytes, not a Windows device name) is its own name. Any other id has each other
/// character replaced by <c>_</c>, a leading <c>-</c> or <c>.</c> replaced, a device name prefixed with <c>_</c>, is
/// cut to <see cref="MaxKeptBytes"/> bytes of UTF-8, and gets <c>~</c> and the first 12 hexadecimal digits of the
/// SHA-256 of the id's UTF-8 appended. <c>~</c> is itself replaced, so a name with the suffix never equals an id kept
/// as it is, and two names with suffixes differ unless their ids' hashes do; the same id always gets the same name.
/// </summary>
internal static class StreamFileNames
{
    /// <summary>The most UTF-8 bytes kept of an id: with the suffix and an extension, a name stays far under the 255
    /// bytes file systems allow (ext4, APFS) and paths stay short on Windows.</summary>
    public const int MaxKeptBytes = 100;

    private const int HashDigits = 12;

    private static readonly string[] DeviceNames = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

    /// <summary>The file name (without extension) for <paramref name="stream"/>, and why it is not the id itself (null when it is).</summary>
    public static string For(string stream, out string? why)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reasons = new List<string>();
        var kept = new StringBuilder(Math.Min(stream.Length, MaxKeptBytes));
        var bytes = 0;
        var replaced = false;
        var leading = false;
        var cut = false;
        foreach (var rune in stream.EnumerateRunes())
        {
            var safe = IsSafe(rune, first: kept.Length == 0);
            if (!safe && kept.Length == 0 && rune.Value is '-' or '.')
            {
                leading = true;
            }
            else
            {
                replaced |= !safe;
            }

            var shown = safe ? rune : new Rune('_');
            if (bytes + shown.Utf8SequenceLength > MaxKeptBytes)
            {
                cut = true;
                break;
            }

            kept.Append(shown.ToString());
            bytes += shown.Utf8SequenceLength;
        }

        if (kept.Length == 0)
        {
            kept.Append('_');
        }

        if (stream.Length == 0)
        {
            reasons.Add("is empty");
        }

        if (leading)
        {
            reasons.Add("starts with '-' or '.' (an option, a hidden file)");
        }

        if (replaced)
        {
            reasons.Add("has characters a file name cannot safely hold");
        }

        if (cut)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"is longer than {MaxKeptBytes} bytes"));
        }

        if (IsDeviceName(kept.ToString()))
        {
            kept.Insert(0, '_');
            reasons.Add("is a device name on Windows");
        }

        if (reasons.Count == 0)
        {
            why = null;
            return stream;
        }

        why = string.Join(" and ", reasons);
        return WithHash(kept.ToString(), stream);
    }

    /// <summary>
    /// Names for several streams written into one folder: <see cref="For"/>, and, for ids whose names would differ only
    /// in letter case or Unicode normalization (one file on Windows and macOS), the hash suffix on each of them.
    /// </summary>
    /// <exception cref="IOException">Two ids still get one name (their hashes' first digits agree).</exception>
    public static IReadOnlyList<(string Name, string? Why)> ForAll(IReadOnlyList<string> streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        var names = streams.Select(s => (Name: For(s, out var why), Why: why)).ToArray();
        foreach (var group in Enumerable.Range(0, names.Length).GroupBy(i => FoldKey(names[i].Name)).Where(g => g.Count() > 1))
        {
            foreach (var i in group.Where(i => names[i].Why is null))
            {
                names[i] = (WithHash(names[i].Name, streams[i]), "differs from another stream's only in letter case or Unicode normalization");
            }
        }

        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            if (!taken.TryAdd(FoldKey(names[i].Name), i))
            {
                var other = streams[taken[FoldKey(names[i].Name)]];
                throw new IOException($"streams '{other}' and '{streams[i]}' would both be written as {names[i].Name}; plot them one at a time (--stream) into single files.");
            }
        }

        return names;
    }

    private static string WithHash(string kept, string stream) =>
        kept + "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stream)))[..HashDigits];

    /// <summary>What a case-insensitive, normalization-insensitive file system (NTFS, APFS) compares.</summary>
    private static string FoldKey(string name) => name.Normalize(NormalizationForm.FormC).ToUpperInvariant();

    /// <summary>ASCII letters and digits, <c>-</c>, <c>_</c> and <c>.</c> (neither <c>-</c> nor <c>.</c> first), and other letters and digits.</summary>
    private static bool IsSafe(Rune rune, bool first)
    {
        if (rune.IsAscii)
        {
            var c = (char)rune.Value;
            return char.IsAsciiLetterOrDigit(c) || c == '_' || (!first && c is '-' or '.');
        }

        return Rune.IsLetterOrDigit(rune);
    }

    /// <summary>Whether Windows reads the name as a device (<c>CON</c>, <c>nul.txt</c>, <c>COM1</c>, <c>LPT¹</c>) whatever its extension.</summary>
    private static bool IsDeviceName(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var stem = (dot < 0 ? name : name[..dot]).TrimEnd(' ');
        if (DeviceNames.Contains(stem, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        return stem.Length == 4
            && (stem.StartsWith("COM", StringComparison.OrdinalIgnoreCase) || stem.StartsWith("LPT", StringComparison.OrdinalIgnoreCase))
            && (char.IsAsciiDigit(stem[3]) || stem[3] is '¹' or '²' or '³');
    }
}
