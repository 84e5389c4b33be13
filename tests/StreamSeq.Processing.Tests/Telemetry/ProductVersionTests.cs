using System.Reflection;
using System.Reflection.Emit;
using StreamSeq.Processing.Telemetry;

namespace StreamSeq.Processing.Tests.Telemetry;

public sealed class ProductVersionTests
{
    [Theory]
    [InlineData("0.1.0+8080c8cc914e05014fea7b0c22ca4a1297d6fdef", "0.1.0", "8080c8cc914e05014fea7b0c22ca4a1297d6fdef")]
    [InlineData("1.2.3-beta.4+abc", "1.2.3-beta.4", "abc")]
    [InlineData("0.1.0", "0.1.0", null)]
    [InlineData("0.1.0+", "0.1.0", null)]
    public void Parse_InformationalVersion_SplitsVersionAndCommit(string informational, string version, string? commit)
    {
        var parsed = ProductVersion.Parse(informational);
        Assert.Equal(version, parsed.Version);
        Assert.Equal(commit, parsed.Commit);
        Assert.Equal(commit is null ? version : informational, parsed.ToString());
    }

    [Fact]
    public void Of_AssemblyWithoutInformationalVersion_FallsBackToTheAssemblyVersionWithoutCommit()
    {
        var name = new AssemblyName("NoInformationalVersion") { Version = new Version(2, 3, 4, 0) };
        var assembly = AssemblyBuilder.DefineDynamicAssembly(name, AssemblyBuilderAccess.Run);
        Assert.Equal(new ProductVersion("2.3.4", null), ProductVersion.Of(assembly));
    }

    [Fact]
    public void Current_StreamSeqBuild_CarriesTheVersionOfDirectoryBuildProps()
    {
        var props = System.Xml.Linq.XDocument.Load(StreamSeq.Testing.RepositoryFiles.Path("Directory.Build.props"));
        var version = props.Descendants("Version").Single().Value;
        Assert.Equal(version, ProductVersion.Current.Version);
    }
}
