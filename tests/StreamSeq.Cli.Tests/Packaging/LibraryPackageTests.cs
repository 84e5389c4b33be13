using System.Globalization;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using StreamSeq.Cli.Commands;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Packaging;

/// <summary>
/// StreamSeq.Estimation and StreamSeq.Processing as NuGet packages: their metadata, symbols and sources, and the
/// quick-start sample (samples/FilterQuickstart) restored from the packed packages alone, run, and checked against
/// the libraries and the streamseq command.
/// </summary>
[Collection(PackagingCollection.Name)]
public sealed class LibraryPackageTests(PackedRepository packed)
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    [Theory]
    [InlineData("StreamSeq.Estimation", new[] { "MathNet.Numerics", "System.Numerics.Tensors" })]
    [InlineData("StreamSeq.Processing", new[] { "StreamSeq.Estimation", "System.Reactive", "Sep" })]
    public void Pack_Library_LicenseReadmeRepositoryDependenciesAndApiDocs(string id, string[] dependencies)
    {
        using var package = ZipFile.OpenRead(packed.Package(id));
        var nuspec = XDocument.Load(package.GetEntry($"{id}.nuspec")!.Open());
        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;

        Assert.Equal(id, metadata.Element(ns + "id")!.Value);
        Assert.Equal(LocalPackageFeed.Version, metadata.Element(ns + "version")!.Value);
        var license = metadata.Element(ns + "license")!;
        Assert.Equal(("expression", "MIT"), (license.Attribute("type")!.Value, license.Value));
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")!.Value));
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "tags")!.Value));
        var repository = metadata.Element(ns + "repository")!;
        Assert.Equal("git", repository.Attribute("type")!.Value);
        Assert.Equal("https://github.com/streamseq/streamseq", repository.Attribute("url")!.Value);
        if (ProcessRunner.GitHead() is { } head)
        {
            Assert.Equal(head, repository.Attribute("commit")!.Value);
        }

        var declared = metadata.Descendants(ns + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        Assert.Equal(dependencies.Order(), declared.Keys.Order());
        Assert.DoesNotContain("Microsoft.CodeAnalysis.PublicApiAnalyzers", declared.Keys);
        if (declared.TryGetValue("StreamSeq.Estimation", out var estimation))
        {
            Assert.Equal(LocalPackageFeed.Version, estimation);
        }

        var files = package.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains($"lib/net10.0/{id}.dll", files);
        Assert.Contains($"lib/net10.0/{id}.xml", files);
        Assert.Contains("README.md", files);
        Assert.Contains("LICENSE", files);
        Assert.DoesNotContain(files, f => f.EndsWith(".pdb", StringComparison.Ordinal));

        // The README on the package page is the library's own, with its first steps.
        using var readme = new StreamReader(package.GetEntry("README.md")!.Open());
        Assert.Contains($"dotnet add package {id}", readme.ReadToEnd(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("StreamSeq.Estimation")]
    [InlineData("StreamSeq.Processing")]
    public void Pack_Library_SymbolPackageWithDeterministicPathsAndReachableSources(string id)
    {
        using var symbols = ZipFile.OpenRead(packed.Package(id, "snupkg"));
        var entry = symbols.GetEntry($"lib/net10.0/{id}.pdb");
        Assert.NotNull(entry);
        using var pdbBytes = new MemoryStream();
        using (var stream = entry.Open())
        {
            stream.CopyTo(pdbBytes);
        }

        pdbBytes.Position = 0;
        using var provider = MetadataReaderProvider.FromPortablePdbStream(pdbBytes);
        var pdb = provider.GetMetadataReader();
        var documents = pdb.Documents.Select(d => pdb.GetString(pdb.GetDocument(d).Name)).ToList();

        // ContinuousIntegrationBuild maps the build machine's paths away.
        Assert.NotEmpty(documents);
        Assert.All(documents.Where(d => d.EndsWith(".cs", StringComparison.Ordinal) && !d.Contains("/obj/", StringComparison.Ordinal)), d => Assert.StartsWith("/_/src/", d, StringComparison.Ordinal));

        // A debugger finds every source: through SourceLink when the clone's origin is on GitHub, embedded otherwise.
        var sourceLink = pdb.GetCustomDebugInformation(EntityHandle.ModuleDefinition).Any(h => pdb.GetGuid(pdb.GetCustomDebugInformation(h).Kind) == SourceLinkKind);
        var embedded = pdb.Documents.Count(d => pdb.GetCustomDebugInformation(d).Any(h => pdb.GetGuid(pdb.GetCustomDebugInformation(h).Kind) == EmbeddedSourceKind));
        Assert.True(sourceLink || embedded >= documents.Count(d => d.EndsWith(".cs", StringComparison.Ordinal)), $"sources neither linked nor embedded ({embedded} of {documents.Count} embedded)");

        // The PDB is the one of the packed assembly.
        using var package = ZipFile.OpenRead(packed.Package(id));
        using var dll = new MemoryStream();
        using (var stream = package.GetEntry($"lib/net10.0/{id}.dll")!.Open())
        {
            stream.CopyTo(dll);
        }

        dll.Position = 0;
        using var pe = new PEReader(dll);
        var codeView = pe.ReadDebugDirectory().Single(d => d.Type == DebugDirectoryEntryType.CodeView);
        Assert.Equal(pe.ReadCodeViewDebugDirectoryData(codeView).Guid, new BlobContentId(pdb.DebugMetadataHeader!.Id).Guid);
    }

    [Fact]
    public void Quickstart_RestoredFromThePackagesAlone_PrintsWhatTheLibrariesAndTheCommandCompute()
    {
        // The sample as users copy it: its folder with the samples' build settings, away from the repository's.
        var work = Directory.CreateDirectory(Path.Combine(packed.Feed.Root, "samples")).FullName;
        foreach (var file in Directory.GetFiles(RepositoryFiles.Path("samples"), "*", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var target = Path.Combine(work, Path.GetRelativePath(RepositoryFiles.Path("samples"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var project = Path.Combine(work, "FilterQuickstart", "FilterQuickstart.csproj");
        Assert.Equal(LocalPackageFeed.Version, XDocument.Load(project).Descendants("StreamSeqVersion").Single().Value);
        var version = $"-p:StreamSeqVersion={LocalPackageFeed.Version}";
        var restore = packed.Feed.Dotnet(work, "restore", project, "--configfile", packed.Feed.ConfigFile, version);
        Assert.True(restore.Code == 0, restore.ToString());
        var assets = File.ReadAllText(Path.Combine(work, "FilterQuickstart", "obj", "project.assets.json"));
        Assert.Contains($"\"StreamSeq.Estimation/{LocalPackageFeed.Version}\"", assets, StringComparison.Ordinal);
        Assert.DoesNotContain("\"type\": \"project\"", assets, StringComparison.Ordinal);
        var run = packed.Feed.Dotnet(work, "run", "--project", project, "--no-restore", "-c", "Release", version);
        Assert.True(run.Code == 0, run.ToString());
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // 1. The filter's steps, as the library computes them here.
        double[] readings = [.. Enumerable.Range(1, 20).Select(t => t + (0.8 * Math.Sin(1.7 * t)))];
        var expected = Steps(readings);
        Assert.Equal(expected, lines.Where(l => l.StartsWith("step ", StringComparison.Ordinal)));

        // 2. The JSON spec builds the same filter, to the last bit.
        var last = expected[^1].Split(' ');
        Assert.Equal($"spec {last[2]} {last[3]}", Assert.Single(lines, l => l.StartsWith("spec ", StringComparison.Ordinal)));

        // 3. The processor's records are the records `streamseq run` writes for the same readings.
        var dir = Directory.CreateDirectory(Path.Combine(packed.Feed.Root, "run")).FullName;
        File.WriteAllText(Path.Combine(dir, "model.json"), """{"name":"tracker","kind":"linear-gaussian","transition":[[1,1],[0,1]],"transitionNoise":[[0.25,0.5],[0.5,1.0]],"observation":[[1,0]],"observationNoise":[[0.64]],"initialMean":[0,0],"initialCovariance":[[500,0],[0,500]]}""");
        File.WriteAllLines(Path.Combine(dir, "readings.jsonl"), readings.Select((z, t) => string.Create(CultureInfo.InvariantCulture, $$"""{"stream":"s1","time":{{t + 1}},"values":[{{z:R}}]}""")));
        Assert.Equal(0, RunCommand.Execute(Path.Combine(dir, "model.json"), Path.Combine(dir, "readings.jsonl"), Path.Combine(dir, "out.jsonl"), 2, 1, false, 0, false, null, TextWriter.Null, TextWriter.Null));
        var records = lines.Where(l => l.StartsWith("record ", StringComparison.Ordinal)).Select(l => l["record ".Length..]).ToList();
        Assert.Equal(File.ReadAllLines(Path.Combine(dir, "out.jsonl")), records);
        Assert.Contains(records, r => r.StartsWith("{\"type\":\"smoothed\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("dead-letter", StringComparison.Ordinal));
    }

    /// <summary>The sample's first part computed with the referenced library.</summary>
    private static List<string> Steps(double[] readings)
    {
        var filter = new KalmanFilter(new LinearGaussianModel(new MatrixDynamics(2, [1, 1, 0, 1], [0.25, 0.5, 0.5, 1.0]), 1, [1, 0], [0.64], [0, 0], [500, 0, 0, 500]));
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var lines = new List<string>();
        foreach (var z in readings)
        {
            filter.Step(state, new Observation([z]), estimate, default);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"step z={z:R} position={estimate.StateMean[0]:R} velocity={estimate.StateMean[1]:R} variance={estimate.StateCovariance[0]:R} logLik={estimate.LogLikelihood:R} nis={estimate.NormalizedInnovationSquared:R}"));
        }

        return lines;
    }
}
