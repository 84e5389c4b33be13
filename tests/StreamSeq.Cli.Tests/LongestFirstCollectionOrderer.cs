using Xunit.Abstractions;
using StreamSeq.Testing;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("StreamSeq.Cli.Tests.LongestFirstCollectionOrderer", "StreamSeq.Cli.Tests")]

namespace StreamSeq.Cli.Tests;

/// <summary>
/// Starts the test collections that take longest first, the others after them in xunit's default (shuffled) order.
/// The packaging collection's fixture packs the libraries and the tool and installs it (about three minutes of
/// <c>dotnet pack</c>) before its tests; started once the short classes had freed a slot, it ran on alone at the end of
/// the run with every other test done (the last 3 of 6 minutes). Only the order changes: which tests run, and with
/// what, does not.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    /// <summary>
    /// The longest collections, longest first: a named collection by its name, a class's own collection by the class's
    /// name under <c>StreamSeq.Cli.Tests</c>. A collection missing here only starts later.
    /// </summary>
    internal static readonly string[] Longest =
    [
        Packaging.PackagingCollection.Name,
        "Documentation.DocumentedCommandsTests",
        Plotting.SensorsRunCollection.Name,
        "Commands.ReadCommandTests",
        "Commands.StopSignalTests",
        "Commands.DegenerateDataTests",
    ];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        LongestFirstOrder.Apply(testCollections, Longest, "StreamSeq.Cli.Tests");
}
