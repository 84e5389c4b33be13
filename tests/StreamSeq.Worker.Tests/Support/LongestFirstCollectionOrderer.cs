using Xunit.Abstractions;
using StreamSeq.Testing;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("StreamSeq.Worker.Tests.Support.LongestFirstCollectionOrderer", "StreamSeq.Worker.Tests")]

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// Starts the test classes that take longest first, the others after them in xunit's default (shuffled) order. The project runs
/// a few classes at a time (xunit.runner.json) and a class's tests run one after another, so a long class started late
/// ran on alone at the end of the run while the other slots had nothing left (the soak test, started after 230 s of a
/// 400 s run, took the last 130 s). Only the order changes: which tests run, and with what, does not.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    /// <summary>
    /// The longest classes, longest first (their summed test durations in a run of the project on two shared cores,
    /// and for <c>WorkerImageTests</c> its fixture's <c>dotnet publish</c> of about two minutes before its tests).
    /// A class missing here only starts later; a name that no longer matches a class is ignored.
    /// </summary>
    internal static readonly string[] Longest =
    [
        "Integration.ChaosSoakTests",
        "Deployment.WorkerImageTests",
        "Integration.DiskStoreTests",
        "Integration.ExactlyOnceTests",
        "Integration.HostileChangelogTests",
        "Integration.ModelChangeTests",
        "Integration.CrashTests",
        "Hosting.ReadinessTests",
        "Hosting.SecondStopSignalTests",
        "Integration.ChangelogCompactionTests",
        "Integration.PartitionGrowthTests",
        "Integration.AbortTests",
        "Integration.PoisonRecordTests",
        "Configuration.WorkerStartTests",
        "Hosting.StreamQueryHttpTests",
        "Dashboard.DashboardFeedTests",
        "Integration.StreamQueryTests",
        "Integration.OversizeStateTests",
    ];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        LongestFirstOrder.Apply(testCollections, Longest, "StreamSeq.Worker.Tests");
}
