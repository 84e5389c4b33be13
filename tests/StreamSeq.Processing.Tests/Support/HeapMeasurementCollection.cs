namespace StreamSeq.Processing.Tests.Support;

/// <summary>
/// Tests that compare an estimate with what the managed heap grows by: <see cref="GC.GetTotalMemory(bool)"/> counts
/// every thread's live objects, so these run on their own, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "heap measurement";
}
