using System.Globalization;

namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// Ways of splitting a corpus into folds: one fold per category (leave one category out), or K folds of files dealt
/// round-robin within each category (stratified K-fold by file). Every fold must hold a scored window, since its
/// normalised score divides by S_perfect - S_null.
/// </summary>
public static class NabFolds
{
    /// <summary>The scheme names <see cref="Parse"/> understands.</summary>
    public const string Schemes = "'category' (leave one category out) or 'files:K' (K stratified folds of files)";

    /// <summary>
    /// One fold per category. A category without scored windows cannot be normalised on its own; it joins the
    /// category whose name shares the longest prefix with it (ties: the first in name order), so NAB's
    /// artificialNoAnomaly files are held out with artificialWithAnomaly.
    /// </summary>
    /// <exception cref="ArgumentException">No category has a scored window.</exception>
    public static IReadOnlyList<NabFold> ByCategory(NabCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var byCategory = corpus.Categories.ToDictionary(c => c, c => corpus.Files.Where(f => f.Category == c).ToList(), StringComparer.Ordinal);
        var scored = corpus.Categories.Where(c => byCategory[c].Sum(f => f.ScoredWindowCount) > 0).ToList();
        if (scored.Count == 0)
        {
            throw new ArgumentException("No category has a scored window: nothing to cross-validate.", nameof(corpus));
        }

        foreach (var category in corpus.Categories.Except(scored))
        {
            var host = scored.OrderByDescending(c => CommonPrefix(c, category)).ThenBy(c => c, StringComparer.Ordinal).First();
            byCategory[host].AddRange(byCategory[category]);
        }

        return [.. scored.Select(c => new NabFold(c.Length == 0 ? "(root)" : c, [.. byCategory[c].OrderBy(f => f.RelativePath, StringComparer.Ordinal)]))];
    }

    /// <summary>
    /// <paramref name="count"/> folds of files: within each category (in name order) the files are dealt to folds
    /// 1, 2, ..., K, 1, 2, ... continuing where the previous category stopped, so every fold gets files of most
    /// categories and the folds' sizes differ by at most one file.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two folds, more folds than files, or a fold without a scored window.</exception>
    public static IReadOnlyList<NabFold> ByFile(NabCorpus corpus, int count)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (count < 2 || count > corpus.Files.Count)
        {
            throw new ArgumentException($"files:K needs 2 <= K <= {corpus.Files.Count} (the number of files), got {count}.", nameof(count));
        }

        var folds = Enumerable.Range(0, count).Select(_ => new List<NabDataFile>()).ToArray();
        var next = 0;
        foreach (var file in corpus.Files.OrderBy(f => f.Category, StringComparer.Ordinal).ThenBy(f => f.Name, StringComparer.Ordinal))
        {
            folds[next].Add(file);
            next = (next + 1) % count;
        }

        var result = folds.Select((files, k) => new NabFold(string.Create(CultureInfo.InvariantCulture, $"files {k + 1}/{count}"), files)).ToList();
        var empty = result.FirstOrDefault(f => f.ScoredWindowCount == 0);
        if (empty is not null)
        {
            throw new ArgumentException($"Fold '{empty.Name}' has no scored window, so it cannot be normalised; use fewer folds.", nameof(count));
        }

        return result;
    }

    /// <summary>Builds the folds named by <paramref name="scheme"/> (see <see cref="Schemes"/>).</summary>
    /// <exception cref="ArgumentException">The scheme is unknown or cannot split this corpus.</exception>
    public static IReadOnlyList<NabFold> Parse(string scheme, NabCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (scheme == "category")
        {
            return ByCategory(corpus);
        }

        if (scheme.StartsWith("files:", StringComparison.Ordinal)
            && int.TryParse(scheme.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var k))
        {
            return ByFile(corpus, k);
        }

        throw new ArgumentException($"Unknown fold scheme '{scheme}': use {Schemes}.", nameof(scheme));
    }

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
        {
            n++;
        }

        return n;
    }
}
