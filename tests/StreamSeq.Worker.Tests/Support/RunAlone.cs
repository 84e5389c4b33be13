namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// Test classes that run by themselves once the others are done (the rest of the project runs two test classes at a
/// time, xunit.runner.json): a test that picks a free port long before it listens on it, or whose checks hold only
/// while the machine keeps up with a schedule.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunAlone
{
    public const string Name = "run alone";
}
