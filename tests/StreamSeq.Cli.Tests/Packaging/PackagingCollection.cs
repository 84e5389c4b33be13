namespace StreamSeq.Cli.Tests.Packaging;

/// <summary>The tests that use the packed repository: they share one <see cref="PackedRepository"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PackagingCollection : ICollectionFixture<PackedRepository>
{
    public const string Name = "packaging";
}
