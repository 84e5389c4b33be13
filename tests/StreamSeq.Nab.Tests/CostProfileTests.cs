using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class CostProfileTests
{
    [Fact]
    public void Load_NabProfilesFile_KeepsOrderAndWeights()
    {
        using var folder = new TempFolder();
        var path = folder.Write("profiles.json", SyntheticNabFolder.Profiles);

        var profiles = CostProfile.Load(path);

        Assert.Equal(CostProfile.NabProfiles, profiles);
    }

    [Fact]
    public void Load_NegativeWeight_NamesProfileAndWeight()
    {
        using var folder = new TempFolder();
        var path = folder.Write("profiles.json", """{ "odd": { "CostMatrix": { "tpWeight": 1, "fpWeight": -0.1, "fnWeight": 1 } } }""");

        var error = Assert.Throws<InvalidDataException>(() => CostProfile.Load(path));

        Assert.Contains("odd", error.Message, StringComparison.Ordinal);
        Assert.Contains("fpWeight", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingWeight_NamesIt()
    {
        using var folder = new TempFolder();
        var path = folder.Write("profiles.json", """{ "odd": { "CostMatrix": { "tpWeight": 1, "fpWeight": 0.1 } } }""");

        var error = Assert.Throws<InvalidDataException>(() => CostProfile.Load(path));

        Assert.Contains("fnWeight", error.Message, StringComparison.Ordinal);
    }
}
