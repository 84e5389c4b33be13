using Confluent.Kafka;
using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Native;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The worker's administrative connection to the broker: it waits for the broker at start, creates missing topics
/// (<see cref="TopicProvisioner"/>) and answers whether the broker is reachable now (readiness).
/// </summary>
/// <remarks>
/// An unreachable broker does not stop the worker: it keeps retrying (1 s, doubling to 10 s between attempts, one
/// warning per attempt) and stays not ready, as a Kafka Streams application does, so that a broker restart or a
/// network outage heals by itself and a rollout never proceeds past a worker that cannot reach its broker. Refused
/// credentials or TLS do stop it: retrying cannot fix them.
/// </remarks>
public sealed partial class BrokerConnection : IDisposable
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ProbeReuse = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StartAttemptTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    private readonly KafkaTransportOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<BrokerConnection> logger;
    private readonly SemaphoreSlim probing = new(1, 1);
    private readonly Lazy<IAdminClient> admin;
    private volatile Error? lastClientError;
    private volatile BrokerState? last;

    /// <summary>Prepares the connection (the client is created at first use).</summary>
    public BrokerConnection(BrokerEndpoint broker, IOptions<KafkaTransportOptions> options, TimeProvider time, ILogger<BrokerConnection> logger)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        BootstrapServers = broker.BootstrapServers;
        admin = new Lazy<IAdminClient>(Create);
    }

    /// <summary>The broker list in use.</summary>
    public string BootstrapServers { get; }

    /// <summary>The last answer about the broker (null before the first request).</summary>
    public BrokerState? Last => last;

    /// <summary>The admin client (topic creation and metadata).</summary>
    /// <exception cref="WorkerStartException">librdkafka cannot create a client with these settings.</exception>
    public IAdminClient Admin => admin.Value;

    /// <summary>Waits until the broker answers, retrying with backoff; returns at once when it does.</summary>
    /// <exception cref="WorkerStartException">The broker refused the worker's credentials or TLS.</exception>
    public async Task WaitUntilReachableAsync(CancellationToken cancellation)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            var state = await RequestAsync(StartAttemptTimeout, cancellation).ConfigureAwait(false);
            if (state.Reachable)
            {
                if (attempt > 1)
                {
                    LogReached(logger, BootstrapServers, attempt);
                }

                return;
            }

            LogUnreachable(logger, BootstrapServers, state.Problem ?? "no answer", delay.TotalSeconds);
            await Task.Delay(delay, time, cancellation).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    /// <summary>Asks the broker for metadata now, unless an answer of the last two seconds can be reused.</summary>
    public async Task<BrokerState> ProbeAsync(CancellationToken cancellation)
    {
        if (last is { } recent && time.GetUtcNow() - recent.At < ProbeReuse)
        {
            return recent;
        }

        await probing.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            return last is { } fresh && time.GetUtcNow() - fresh.At < ProbeReuse
                ? fresh
                : await RequestAsync(ProbeTimeout, cancellation).ConfigureAwait(false);
        }
        catch (WorkerStartException e)
        {
            return last = new BrokerState(false, e.Message, time.GetUtcNow());
        }
        finally
        {
            probing.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (admin.IsValueCreated)
        {
            admin.Value.Dispose();
        }

        probing.Dispose();
    }

    private async Task<BrokerState> RequestAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        var client = Admin;
        lastClientError = null;
        try
        {
            // A blocking librdkafka call: off the caller's thread, bounded by the timeout.
            await Task.Run(() => client.GetMetadata(options.InputTopic, timeout), cancellation).ConfigureAwait(false);
            return last = new BrokerState(true, null, time.GetUtcNow());
        }
        catch (KafkaException e)
        {
            if (lastClientError is { } refused && IsRefusal(refused.Code))
            {
                throw new WorkerStartException($"StreamSeq:Kafka:Client: the broker at {BootstrapServers} refused the connection: {refused.Reason}", e);
            }

            return last = new BrokerState(false, e.Error.Reason, time.GetUtcNow());
        }
    }

    private IAdminClient Create()
    {
        KafkaNative.EnsureLoaded();
        var config = new AdminClientConfig { BootstrapServers = BootstrapServers };
        foreach (var (key, value) in options.Client)
        {
            config.Set(key, value);
        }

        try
        {
            return new AdminClientBuilder(config)
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, e) => lastClientError = e)
                .Build();
        }
        catch (Exception e) when (e is KafkaException or ArgumentException or InvalidOperationException)
        {
            throw new WorkerStartException($"StreamSeq:Kafka:Client: librdkafka cannot create a client with these settings: {e.Message}", e);
        }
    }

    private static bool IsRefusal(ErrorCode code) =>
        code is ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Ssl or ErrorCode.IllegalSaslState;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka at {Bootstrap} is not reachable ({Reason}); retrying in {Seconds} s. The worker is not ready until Kafka answers.")]
    private static partial void LogUnreachable(ILogger logger, string bootstrap, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka at {Bootstrap} answered after {Attempts} attempts")]
    private static partial void LogReached(ILogger logger, string bootstrap, int attempts);
}
