using System.Net;
using System.Net.Sockets;
using StreamSeq.Kafka.Simulation;
using StreamSeq.Processing.Simulation;

namespace StreamSeq.Kafka.Tests.Simulation;

/// <summary>How the simulator's producer behaves when the broker cannot take its readings.</summary>
public sealed class SimulatedReadingProducerTests
{
    [Fact]
    public async Task RunAsync_QueueFullAndNoBroker_StopsWhenCancelled()
    {
        // A one-message queue and a broker address nobody listens on: the second reading finds the queue full for good.
        using var producer = new SimulatedReadingProducer($"127.0.0.1:{UnusedPort()}", [new("queue.buffering.max.messages", "1")]);
        var simulator = new SensorSimulator(new SimulatorOptions { Streams = 5, Seed = 3 });
        using var cancellation = new CancellationTokenSource();

        var run = Task.Run(() => producer.RunAsync(simulator, "readings", TimeSpan.FromMilliseconds(10), rounds: 0, TimeProvider.System, cancellation.Token));
        await WaitUntil(() => producer.Produced == 1);
        Assert.False(run.IsCompleted);
        await cancellation.CancelAsync();

        // RunAsync then waits up to 10 s for the queued reading's acknowledgement, which never comes.
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.Same(run, finished);
        await run;
        Assert.Equal(1, producer.Produced);
        Assert.Equal(1, producer.Unacknowledged);
    }

    [Fact]
    public async Task RunAsync_ReadingTheClientRefuses_CountedAsFailedWithItsReasonAndTheSimulatorGoesOn()
    {
        // A topic name longer than Kafka allows: the client refuses each record when it is handed over ("invalid
        // argument"), before any broker is involved.
        using var producer = new SimulatedReadingProducer($"127.0.0.1:{UnusedPort()}");
        var simulator = new SensorSimulator(new SimulatorOptions { Streams = 3, Seed = 3 });

        await producer.RunAsync(simulator, new string('t', 2000), TimeSpan.FromMilliseconds(1), rounds: 2, TimeProvider.System, CancellationToken.None);

        Assert.Equal(6, producer.Produced);
        Assert.Equal(6, producer.Failed);
        Assert.NotNull(producer.LastFailure);
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(20);
        }
    }
}
