using System.Globalization;
using System.Runtime.InteropServices;
using StreamSeq.EmbeddedBroker;
using StreamSeq.Kafka.Embedded;

BrokerOptions options;
try
{
    options = BrokerOptions.Parse(args);
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
    await Console.Error.WriteLineAsync(BrokerOptions.Usage).ConfigureAwait(false);
    return 2;
}

if (options.ShowHelp)
{
    await Console.Out.WriteLineAsync(BrokerOptions.Usage).ConfigureAwait(false);
    return 0;
}

using var cluster = EmbeddedKafkaCluster.Start(options.Brokers);
cluster.SetInitialRebalanceDelay(options.InitialRebalanceDelay);
cluster.SetConsumerGroupHeartbeatInterval(options.ConsumerGroupHeartbeatInterval);
foreach (var topic in options.Topics)
{
    cluster.CreateTopic(topic.Name, topic.Partitions, topic.ReplicationFactor);
}

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

// The first line of standard output is the bootstrap address, for scripts and test harnesses to read.
await Console.Out.WriteLineAsync(cluster.BootstrapServers).ConfigureAwait(false);
await Console.Out.FlushAsync().ConfigureAwait(false);
await Console.Error.WriteLineAsync(string.Create(
    CultureInfo.InvariantCulture,
    $"Embedded Kafka: {options.Brokers} broker(s), {options.Topics.Count} topic(s); stop with SIGTERM/Ctrl+C{(options.WatchStandardInput ? " or by closing standard input" : string.Empty)}."))
    .ConfigureAwait(false);

if (options.WatchStandardInput)
{
    _ = Task.Run(async () =>
    {
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is not null)
        {
        }

        await stop.CancelAsync().ConfigureAwait(false);
    });
}

try
{
    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
}
catch (OperationCanceledException)
{
    // normal shutdown
}

return 0;
