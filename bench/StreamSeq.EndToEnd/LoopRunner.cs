using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;

namespace StreamSeq.EndToEnd;

/// <summary>Runs either loop on a thread of its own and exposes what the measurements need.</summary>
internal sealed class LoopRunner : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;
    private readonly KafkaStreamWorker? worker;
    private readonly PassThroughLoop? passThrough;
    private DateTimeOffset passThroughLastCommit;
    private long passThroughCommitsSeen;
    private Exception? failure;
    private bool disposed;

    private LoopRunner(KafkaStreamWorker? worker, PassThroughLoop? passThrough)
    {
        this.worker = worker;
        this.passThrough = passThrough;
        thread = new Thread(() =>
        {
            try
            {
                if (worker is not null)
                {
                    worker.Run(stop.Token);
                }
                else
                {
                    passThrough!.Run(stop.Token);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failure = e;
            }
        })
        { IsBackground = true, Name = worker is not null ? "worker" : "pass-through" };
        thread.Start();
    }

    public static LoopRunner Worker(KafkaTransportOptions options, ModelRouter router, KafkaTransportMetrics? metrics = null, StateStoreOptions? store = null, ILogger<KafkaStreamWorker>? logger = null) =>
        new(new KafkaStreamWorker(options, router, new ProcessorOptions(), new ProcessingMetrics(), metrics ?? new KafkaTransportMetrics(), logger ?? NullLogger<KafkaStreamWorker>.Instance, storeOptions: store), null);

    public static LoopRunner PassThrough(KafkaTransportOptions options, string outputTopic) => new(null, new PassThroughLoop(options, outputTopic));

    public KafkaStreamWorker? Loop => worker;

    public long Processed => worker?.Status.Processed ?? passThrough!.Processed;

    public long Commits => worker?.Status.Commits ?? passThrough!.Commits;

    /// <summary>True once every input partition is assigned and restored.</summary>
    public bool Assigned(int partitions) => worker is not null
        ? worker.Status.Ready && worker.Status.Partitions.Count == partitions
        : passThrough!.AssignedPartitions == partitions;

    /// <summary>Wall-clock time of the last committed transaction.</summary>
    public DateTimeOffset LastCommit
    {
        get
        {
            if (worker is not null)
            {
                return worker.Status.LastCommit;
            }

            var commits = passThrough!.Commits;
            if (commits != passThroughCommitsSeen)
            {
                passThroughCommitsSeen = commits;
                var age = System.Diagnostics.Stopwatch.GetElapsedTime(passThrough.LastCommitTimestamp);
                passThroughLastCommit = DateTimeOffset.UtcNow - age;
            }

            return passThroughLastCommit;
        }
    }

    /// <summary>Throws when the loop failed.</summary>
    public void ThrowIfFailed()
    {
        if (failure is not null)
        {
            throw new InvalidOperationException($"the {thread.Name} loop failed: {failure.Message}", failure);
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        stop.Cancel();
        thread.Join(TimeSpan.FromSeconds(60));
        worker?.Dispose();
        stop.Dispose();
    }
}
