using System.Reflection;

namespace StreamSeq.Processing.Telemetry;

/// <summary>
/// The product's version and the commit it was built from, as the build stamps them into every StreamSeq assembly's
/// informational version (<c>0.1.0+&lt;commit&gt;</c>). The .NET SDK appends the git commit of the checkout it builds
/// (or <c>SourceRevisionId</c> when given, as deploy/Dockerfile does for builds without a .git folder); a build with
/// neither has no commit, and <see cref="Commit"/> is null.
/// </summary>
/// <param name="Version">The semantic version (<c>Version</c> in Directory.Build.props).</param>
/// <param name="Commit">The source revision, or null when the build did not know it.</param>
public sealed record ProductVersion(string Version, string? Commit)
{
    /// <summary>The version of the StreamSeq assemblies in this process (they are built together).</summary>
    public static ProductVersion Current { get; } = Of(typeof(ProductVersion).Assembly);

    /// <summary>Reads an assembly's informational version, falling back to its assembly version.</summary>
    public static ProductVersion Of(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return Parse(string.IsNullOrWhiteSpace(informational) ? assembly.GetName().Version?.ToString(3) ?? "0.0.0" : informational);
    }

    /// <summary>Splits <c>version+commit</c> (SemVer build metadata) into its parts.</summary>
    public static ProductVersion Parse(string informationalVersion)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(informationalVersion);
        var plus = informationalVersion.IndexOf('+', StringComparison.Ordinal);
        if (plus < 0)
        {
            return new ProductVersion(informationalVersion.Trim(), null);
        }

        var commit = informationalVersion[(plus + 1)..].Trim();
        return new ProductVersion(informationalVersion[..plus].Trim(), commit.Length == 0 ? null : commit);
    }

    /// <summary><c>version+commit</c>, or the version alone when the commit is unknown.</summary>
    public override string ToString() => Commit is null ? Version : $"{Version}+{Commit}";
}
