using System.Runtime.InteropServices;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Native;

namespace StreamSeq.Kafka.Tests.Native;

public sealed class KafkaNativeTests
{
    [Fact]
    public void EnsureLoaded_CalledFromManyThreads_ReturnsOneExistingPath()
    {
        var paths = new string[16];
        Parallel.For(0, paths.Length, i => paths[i] = KafkaNative.EnsureLoaded());

        Assert.Single(paths.Distinct());
        Assert.Equal(paths[0], KafkaNative.LoadedPath);
        Assert.True(File.Exists(paths[0]) || !Path.IsPathRooted(paths[0]), $"'{paths[0]}' is neither a file nor a loader name.");
    }

    [Fact]
    public void EnsureLoaded_ThenConfluentClient_BothUseTheSameLibrdkafkaBuild()
    {
        KafkaNative.EnsureLoaded();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = "127.0.0.1:1" })
            .SetLogHandler((_, _) => { })
            .Build();

        var ours = Marshal.PtrToStringUTF8(LibrdkafkaNative.VersionString());
        Assert.True(Library.IsLoaded);
        Assert.Equal(Library.VersionString, ours);
    }

    [Fact]
    public void EnsureLoaded_WithClientsAndEmbeddedCluster_MapsExactlyOneLibrdkafkaFile()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc/self/maps is Linux-only.
        }

        var path = KafkaNative.EnsureLoaded();
        using var cluster = EmbeddedKafkaCluster.Start();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers })
            .SetLogHandler((_, _) => { })
            .Build();

        var mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].Contains("rdkafka", StringComparison.Ordinal))
            .Select(fields => fields[5])
            .Distinct()
            .ToList();

        var file = Assert.Single(mapped);
        if (Path.IsPathRooted(path))
        {
            Assert.Equal(Path.GetFullPath(path), file);
        }
    }

    [Fact]
    public void Candidates_OnLinux_PreferThePlainBuildThenCentos8InEachDirectory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var candidates = LibrdkafkaLocator.Candidates().ToList();
        var plain = candidates.FindIndex(c => Path.GetFileName(c) == "librdkafka.so");
        var centos8 = candidates.FindIndex(c => Path.GetFileName(c) == "centos8-librdkafka.so");

        Assert.True(centos8 >= 0, "The centos8 build from librdkafka.redist should be deployed with the tests.");
        Assert.True(plain >= 0 && plain < centos8, "The plain build must be tried first, as Confluent.Kafka does.");
        Assert.Equal(candidates.Count, candidates.Distinct().Count());
    }
}
