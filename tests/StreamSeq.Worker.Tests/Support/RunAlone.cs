namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// Test classes that run by themselves once the others are done (the rest of the project runs four test classes at a
/// time, xunit.runner.json): a test whose checks hold only while the machine keeps up with a schedule. (A test that
/// picks a port long before it listens there reserves it instead: <see cref="Scratch.ReservePort"/>.)
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunAlone
{
    public const string Name = "run alone";
}
