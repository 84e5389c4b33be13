namespace StreamSeq.Processing.Records;

/// <summary>
/// How far apart two names are, for "did you mean" hints in error messages (a misspelt record field, a misspelt
/// setting).
/// </summary>
public static class Spelling
{
    /// <summary>Names longer than this are compared on their first this-many characters, so that a hostile name costs little.</summary>
    public const int MaxCompared = 100;

    /// <summary>
    /// The Levenshtein distance between <paramref name="a"/> and <paramref name="b"/> (insertions, deletions and
    /// substitutions each count one), over their first <see cref="MaxCompared"/> characters; case-sensitive.
    /// </summary>
    public static int Distance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        a = a.Length > MaxCompared ? a[..MaxCompared] : a;
        b = b.Length > MaxCompared ? b[..MaxCompared] : b;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
