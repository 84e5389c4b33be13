using Xunit.Abstractions;
using Xunit.Sdk;

namespace StreamSeq.Testing;

/// <summary>
/// The ordering behind each test project's <c>LongestFirstCollectionOrderer</c>: the collections a project names as its
/// longest start first, in the order named, and the others after them in xunit's default (shuffled) order. Only the
/// order changes: which tests run, and with what, does not. Linked into the test projects that need it (tests/Shared).
/// </summary>
public static class LongestFirstOrder
{
    private static readonly DefaultTestCollectionOrderer Fallback = new();

    /// <summary>
    /// Orders <paramref name="collections"/>. A name in <paramref name="longest"/> is a named collection's name or a
    /// class name under <paramref name="rootNamespace"/> (a class's own collection is called "Test collection for
    /// &lt;namespace&gt;.&lt;class&gt;"); a collection not named there only starts later.
    /// </summary>
    public static IEnumerable<ITestCollection> Apply(IEnumerable<ITestCollection> collections, IReadOnlyList<string> longest, string rootNamespace)
    {
        int Rank(ITestCollection collection)
        {
            for (var i = 0; i < longest.Count; i++)
            {
                if (collection.DisplayName == longest[i] || collection.DisplayName.EndsWith(rootNamespace + "." + longest[i], StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return longest.Count;
        }

        return Fallback.OrderTestCollections(collections).Select((c, i) => (Collection: c, Index: i)).OrderBy(x => Rank(x.Collection)).ThenBy(x => x.Index).Select(x => x.Collection);
    }
}
