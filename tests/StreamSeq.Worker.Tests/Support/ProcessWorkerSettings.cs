using System.Text.Json.Nodes;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>Settings for a worker process (<see cref="WorkerProcess"/>) on a <see cref="KafkaTestBed"/>'s broker: no lag, no horizon, no simulator.</summary>
internal static class ProcessWorkerSettings
{
    /// <summary>The Kafka, Processing and Embedded sections; callers add models, routes and their own sections.</summary>
    public static JsonObject OnTestBed(string bootstrapServers, string group, string instanceId) => new()
    {
        ["Kafka"] = new JsonObject
        {
            ["BootstrapServers"] = bootstrapServers,
            ["GroupId"] = group,
            ["InstanceId"] = instanceId,
            ["GroupProtocol"] = "consumer",
            ["CommitInterval"] = "00:00:00.500",
            ["TransactionTimeout"] = "00:00:10",
            ["CreateTopics"] = false,
        },
        ["Processing"] = new JsonObject { ["Lag"] = 0, ["Horizon"] = 0 },
        ["Embedded"] = new JsonObject { ["Simulator"] = false },
    };
}
