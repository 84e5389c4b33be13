using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using StreamSeq.Kafka.Native;
using StreamSeq.Testing;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>deploy/Dockerfile and .dockerignore against the code: entry points, port, probe, native library, user.</summary>
public sealed class DockerfileTests
{
    private static readonly List<(string Instruction, string Arguments)> Instructions = Parse(File.ReadAllText(RepositoryFiles.Path("deploy", "Dockerfile")));

    private static readonly string PublishScript = File.ReadAllText(RepositoryFiles.Path("deploy", "publish.sh"));

    /// <summary>The instructions of the stage named <paramref name="name"/>, its FROM first.</summary>
    private static List<(string Instruction, string Arguments)> Stage(string name) =>
        [.. Instructions.SkipWhile(i => !(i.Instruction == "FROM" && i.Arguments.EndsWith($" AS {name}", StringComparison.Ordinal)))
            .TakeWhile((i, k) => k == 0 || i.Instruction != "FROM")];

    /// <summary>The worker's stage, which both worker images (runtime and runtime-onnx) are built from.</summary>
    private static List<(string Instruction, string Arguments)> RuntimeStage() => Stage("worker");

    private static Dictionary<string, string> RuntimeEnvironment() =>
        RuntimeStage().Where(i => i.Instruction == "ENV")
            .SelectMany(i => Regex.Matches(i.Arguments, @"(\S+?)=(\S+)").Select(m => (m.Groups[1].Value, m.Groups[2].Value)))
            .ToDictionary(p => p.Item1, p => p.Item2);

    [Fact]
    public void Runtime_SmallNonRootAspNetImageWithTheWorkerAsEntryPoint()
    {
        var from = RuntimeStage().First().Arguments;
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:\$\{DOTNET_VERSION\}-noble-chiseled AS worker$", from);
        var user = RuntimeStage().Single(i => i.Instruction == "USER").Arguments.Split(':');
        Assert.All(user, id => Assert.True(int.Parse(id, System.Globalization.CultureInfo.InvariantCulture) > 0, "the image must not run as root"));

        // The Helm chart's pod security context runs as the same numeric user.
        var values = YamlDocuments.ParseOne(File.ReadAllText(RepositoryFiles.Path("helm", "streamseq", "values.yaml")));
        Assert.Equal(user[0], values["podSecurityContext"]!["runAsUser"].Text());

        var entry = JsonSerializer.Deserialize<string[]>(RuntimeStage().Single(i => i.Instruction == "ENTRYPOINT").Arguments)!;
        Assert.Equal(["/usr/bin/dotnet", $"/app/{typeof(HealthProbe).Assembly.GetName().Name}.dll"], entry);
    }

    [Fact]
    public void Targets_DefaultIsTheWorkerAloneAndRuntimeOnnxAddsThePluginsBesideIt()
    {
        var froms = Instructions.Where(i => i.Instruction == "FROM").Select(i => i.Arguments).ToList();
        Assert.Equal("worker AS runtime", froms[^1]);
        Assert.Equal([("FROM", "worker AS runtime")], Stage("runtime"));
        var onnx = Stage("runtime-onnx");
        Assert.Equal(("FROM", "worker AS runtime-onnx"), onnx[0]);
        var copy = Assert.Single(onnx, i => i.Instruction == "COPY").Arguments.Split(' ');
        Assert.Equal(["--from=build", "/out/plugins", $"./{Plugins.ModelKindPlugins.DefaultFolder}/"], copy);
        Assert.Equal("/app", RuntimeStage().Single(i => i.Instruction == "WORKDIR").Arguments);
        Assert.Equal(["--from=build", "/out/worker", "./"], RuntimeStage().Single(i => i.Instruction == "COPY").Arguments.Split(' '));

        // The command's image is for the compose stack's simulator and for files; it never carries the worker.
        var cli = Stage("cli");
        Assert.Equal(["--from=build", "/out/cli", "./"], cli.Single(i => i.Instruction == "COPY").Arguments.Split(' '));
        Assert.Equal(["/usr/bin/dotnet", "/app/streamseq.dll"], JsonSerializer.Deserialize<string[]>(cli.Single(i => i.Instruction == "ENTRYPOINT").Arguments)!);
    }

    [Fact]
    public void Runtime_ListensOnTheContainerPortAndProbesLivenessWithTheWorkersProbeVerb()
    {
        // ASPNETCORE_HTTP_PORTS: every interface, on the port the probe asks; no Urls, which would override it.
        Assert.Equal($"{WorkerEndpoints.ContainerPort}", RuntimeEnvironment()["ASPNETCORE_HTTP_PORTS"]);
        Assert.DoesNotContain(RuntimeEnvironment().Keys, k => k.Equals("Urls", StringComparison.OrdinalIgnoreCase) || k.EndsWith("_URLS", StringComparison.OrdinalIgnoreCase));
        Assert.Equal($"{WorkerEndpoints.ContainerPort}", RuntimeStage().Single(i => i.Instruction == "EXPOSE").Arguments);
        var check = RuntimeStage().Single(i => i.Instruction == "HEALTHCHECK").Arguments;
        var command = JsonSerializer.Deserialize<string[]>(check[(check.IndexOf("CMD ", StringComparison.Ordinal) + 4)..])!;
        Assert.Equal(["/usr/bin/dotnet", $"/app/{typeof(HealthProbe).Assembly.GetName().Name}.dll", HealthProbe.Verb], command);
        Assert.Equal($"http://127.0.0.1:{WorkerEndpoints.ContainerPort}{WorkerEndpoints.Live}", HealthProbe.DefaultUrl(null));
    }

    [Fact]
    public void Runtime_PinsTheGlibcOnlyLibrdkafkaThatThePublishKeeps()
    {
        var path = RuntimeEnvironment()[KafkaNative.PathVariable];
        Assert.Equal("/app/centos8-librdkafka.so", path);
        var build = string.Join("\n", Instructions.Where(i => i.Instruction == "RUN").Select(i => i.Arguments));
        Assert.Contains("bash deploy/publish.sh /out", build, StringComparison.Ordinal);
        Assert.Contains("-r linux-x64", PublishScript, StringComparison.Ordinal);
        Assert.Contains("test -f \"$1/centos8-librdkafka.so\"", PublishScript, StringComparison.Ordinal);
        Assert.Contains("keep_glibc_librdkafka \"$out/worker\"", PublishScript, StringComparison.Ordinal);

        // The file exists under that name in the Confluent.Kafka native package this build uses.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", Path.GetFileName(path))));
    }

    [Fact]
    public void Build_PublishesProjectsWhoseReferencesAllLieInTheCopiedSources()
    {
        var published = Regex.Matches(PublishScript, @"dotnet publish (\S+\.csproj)").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["src/StreamSeq.Worker/StreamSeq.Worker.csproj", "src/StreamSeq.Estimation.Onnx/StreamSeq.Estimation.Onnx.csproj", "src/StreamSeq.Cli/StreamSeq.Cli.csproj"], published);
        var copied = Instructions.Where(i => i.Instruction == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).ToList();
        Assert.Contains("src/", copied);

        var pending = new Stack<string>(published.Select(p => RepositoryFiles.Path(p)));
        var seen = new HashSet<string>();
        while (pending.TryPop(out var project))
        {
            if (!seen.Add(Path.GetFullPath(project)))
            {
                continue;
            }

            Assert.StartsWith(RepositoryFiles.Path("src") + Path.DirectorySeparatorChar, Path.GetFullPath(project), StringComparison.Ordinal);
            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
            {
                pending.Push(Path.Combine(Path.GetDirectoryName(project)!, reference.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar)));
            }
        }

        // The build settings every project imports are copied too, and .dockerignore lets each copied path through.
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props", ".editorconfig", "deploy/publish.sh" })
        {
            Assert.Contains(file, copied);
        }

        var ignore = File.ReadAllLines(RepositoryFiles.Path(".dockerignore")).Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.Equal("*", ignore[0]);
        Assert.All(copied, c => Assert.Contains("!" + c, ignore));
    }

    /// <summary>Instructions with line continuations joined and comments dropped.</summary>
    private static List<(string, string)> Parse(string text)
    {
        var list = new List<(string, string)>();
        var current = string.Empty;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (current.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1].Trim() + " ";
                continue;
            }

            current += line.Trim();
            var space = current.IndexOf(' ', StringComparison.Ordinal);
            list.Add((current[..space].ToUpperInvariant(), current[(space + 1)..].Trim()));
            current = string.Empty;
        }

        return list;
    }
}
