using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Configuration;

public sealed class WorkerConfigurationTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    [Fact]
    public void Build_InlineSpecFromConfiguration_TypesNumbersAndArraysLikeTheJsonSpec()
    {
        var router = ModelConfiguration.Build(
            Config(
                ("StreamSeq:Models:0:name", "ll"),
                ("StreamSeq:Models:0:kind", "linear-gaussian"),
                ("StreamSeq:Models:0:transition:0:0", "1"),
                ("StreamSeq:Models:0:transitionNoise:0:0", "0.5"),
                ("StreamSeq:Models:0:observation:0:0", "1"),
                ("StreamSeq:Models:0:observationNoise:0:0", "2"),
                ("StreamSeq:Models:0:initialization", "diffuse"),
                ("StreamSeq:ModelSettings:ll:Lag", "3")),
            new ProcessingSettings { Horizon = 2 });
        var model = Assert.Single(router.Models.Values);
        Assert.Equal(3, model.Lag);
        Assert.Equal(2, model.Horizon);
        Assert.True(model.Estimator.Info.CanSmooth);
    }

    [Theory]
    [InlineData("StreamSeq:Models:0:transitionNoise:0:0", "-1", "StreamSeq:Models:0:transitionNoise: is not positive semi-definite")]
    [InlineData("StreamSeq:Models:0:kind", "kalman", "StreamSeq:Models:0:kind: unknown kind 'kalman'")]
    [InlineData("StreamSeq:Routes:0:Model", "nope", "StreamSeq:Routes:0:model: names model 'nope'")]
    public void Build_BadSetting_FailsNamingTheSetting(string key, string value, string message)
    {
        var pairs = new Dictionary<string, string>
        {
            ["StreamSeq:Models:0:name"] = "ll",
            ["StreamSeq:Models:0:kind"] = "linear-gaussian",
            ["StreamSeq:Models:0:transition:0:0"] = "1",
            ["StreamSeq:Models:0:transitionNoise:0:0"] = "0.5",
            ["StreamSeq:Models:0:observation:0:0"] = "1",
            ["StreamSeq:Models:0:observationNoise:0:0"] = "2",
            ["StreamSeq:Models:0:initialization"] = "diffuse",
        };
        pairs[key] = value;
        var e = Assert.Throws<InvalidOperationException>(() => ModelConfiguration.Build(Config([.. pairs.Select(p => (p.Key, p.Value))]), new ProcessingSettings()));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartingParameters_TableFile_LoadsAgainstTheModelsOrFailsNamingSettingFileAndLine()
    {
        var router = ModelConfiguration.Build(
            Config(
                ("StreamSeq:Models:0:name", "ll"),
                ("StreamSeq:Models:0:kind", "linear-gaussian"),
                ("StreamSeq:Models:0:components:0:type", "local-level"),
                ("StreamSeq:Models:0:components:0:levelNoise", "0.1"),
                ("StreamSeq:Models:0:observationNoise:0:0", "2"),
                ("StreamSeq:Models:0:adapt:0", "observationNoise"),
                ("StreamSeq:Models:0:adapt:1", "components[0].levelNoise")),
            new ProcessingSettings());
        Assert.Null(StartingParameters.Load(new ProcessingSettings(), router));
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-parameters-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllText(path, """
                {"stream":"a","model":"ll","parameters":{"observationNoise":{"value":[[0.5]]},"components[0].levelNoise":0.02}}
                {"stream":"b","model":"ll","parameters":{"observationNoise":[[0]]}}
                """);
            var e = Assert.Throws<InvalidOperationException>(() => StartingParameters.Load(new ProcessingSettings { ParametersFile = path }, router));
            Assert.StartsWith($"StreamSeq:Processing:ParametersFile: {path}:2: parameters.observationNoise[0][0]: must be a positive", e.Message, StringComparison.Ordinal);
            File.WriteAllLines(path, File.ReadAllLines(path).Take(1));
            Assert.Equal(1, StartingParameters.Load(new ProcessingSettings { ParametersFile = path }, router)!.Count);
        }
        finally
        {
            File.Delete(path);
        }

        var missing = Assert.Throws<InvalidOperationException>(() => StartingParameters.Load(new ProcessingSettings { ParametersFile = path }, router));
        Assert.StartsWith("StreamSeq:Processing:ParametersFile: ", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_InvalidKafkaSetting_ExitsWithMessageNamingTheSetting()
    {
        var start = new ProcessStartInfo("dotnet", [WorkerBuild.Dll(), "--StreamSeq:Kafka:CommitInterval=00:01:00", "--StreamSeq:Kafka:TransactionTimeout=00:00:10", "--StreamSeq:Kafka:BootstrapServers=127.0.0.1:1", "--Urls=http://127.0.0.1:0"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Path.GetDirectoryName(WorkerBuild.Dll())!,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "worker should stop at once on invalid settings");
        var text = await stdout + await stderr;
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("StreamSeq:Kafka:CommitInterval", text, StringComparison.Ordinal);
    }
}
