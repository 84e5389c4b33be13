using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace StreamSeq.Processing.Alerts;

/// <summary>
/// Routes alerts to an <see cref="IAlertSink"/> off the processing loop, with batching, pacing, retries and a bounded
/// queue, in <see cref="IScheduler"/> time (so it runs in virtual time under a test scheduler).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Offer"/> only enqueues and never blocks: when <see cref="AlertDispatcherOptions.QueueCapacity"/> alerts
/// are waiting, the oldest is dropped and counted (as Prometheus's Alertmanager client does: newer alerts matter more).
/// Every arrival is a signal; <c>Buffer(BatchInterval, MaxBatchSize)</c> over the signals says when a batch is due (a
/// full batch at once, a partial one at the end of the interval). Requests go one at a time (<c>Concat</c>): while
/// one is in flight, further alerts wait in the queue, and when it returns the queue is drained in batches of up to
/// <see cref="AlertDispatcherOptions.MaxBatchSize"/>, so a slow receiver gets fewer, fuller requests rather than a
/// backlog of small ones. Requests start at least 1 / <see cref="AlertDispatcherOptions.MaxRequestsPerSecond"/>
/// apart. A transient failure is retried with doubling back-off up to
/// <see cref="AlertDispatcherOptions.MaxAttempts"/> tries; then, or on a permanent failure, the batch is dropped and
/// counted.
/// </para>
/// <para>
/// Delivery is at most once: a batch that is given up, and alerts still queued when the process dies, are lost.
/// </para>
/// </remarks>
public sealed class AlertDispatcher : IDisposable
{
    private readonly object gate = new();
    private readonly Queue<AlertNotification> queue = new();
    private readonly Subject<Unit> arrivals = new();
    private readonly Subject<AlertDelivery> deliveries = new();
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IAlertSink sink;
    private readonly AlertDispatcherOptions options;
    private readonly IScheduler scheduler;
    private readonly TimeSpan requestSpacing;
    private readonly IDisposable subscription;
    private DateTimeOffset nextRequest = DateTimeOffset.MinValue;
    private int drainPending;
    private bool closed;
    private long offered;
    private long dropped;
    private long sent;
    private long failed;
    private long requests;

    /// <summary>Creates the dispatcher and starts its pipeline on <paramref name="scheduler"/>.</summary>
    public AlertDispatcher(IAlertSink sink, AlertDispatcherOptions options, IScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(scheduler);
        options.Validate();
        this.sink = sink;
        this.options = options;
        this.scheduler = scheduler;
        requestSpacing = TimeSpan.FromTicks((long)Math.Ceiling(TimeSpan.TicksPerSecond / options.MaxRequestsPerSecond));
        subscription = arrivals
            .Buffer(options.BatchInterval, options.MaxBatchSize, scheduler)
            .Where(signals => signals.Count > 0 && Interlocked.Exchange(ref drainPending, 1) == 0)
            .ObserveOn(scheduler)
            .Select(_ => Drain())
            .Concat()
            .Subscribe(_ => { }, e => finished.TrySetException(e), () => finished.TrySetResult());
    }

    /// <summary>Every request's result (for logs and metrics); published on the scheduler, never on the caller of <see cref="Offer"/>.</summary>
    public IObservable<AlertDelivery> Deliveries => deliveries.AsObservable();

    /// <summary>Alerts offered so far.</summary>
    public long Offered => Interlocked.Read(ref offered);

    /// <summary>Alerts dropped because the queue was full (or the dispatcher closed).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Alerts delivered.</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Alerts given up after a permanent failure or the last attempt.</summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>Requests made, retries included.</summary>
    public long Requests => Interlocked.Read(ref requests);

    /// <summary>Alerts waiting in the queue.</summary>
    public int Waiting
    {
        get
        {
            lock (gate)
            {
                return queue.Count;
            }
        }
    }

    /// <summary>
    /// Queues an alert without blocking. Returns false when the queue was full, in which case the oldest waiting alert
    /// made room (or, once the dispatcher is closing, when this alert was dropped).
    /// </summary>
    public bool Offer(AlertNotification alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        lock (gate)
        {
            offered++;
            if (closed)
            {
                dropped++;
                return false;
            }

            var room = true;
            if (queue.Count >= options.QueueCapacity)
            {
                queue.Dequeue();
                dropped++;
                room = false;
            }

            queue.Enqueue(alert);
            arrivals.OnNext(Unit.Default);
            return room;
        }
    }

    /// <summary>
    /// Stops accepting alerts and delivers those waiting; completes when the last request returned. When
    /// <paramref name="cancellationToken"/> fires first, the pipeline stops and what still waits is counted as dropped.
    /// </summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (!closed)
            {
                closed = true;
                arrivals.OnCompleted();
            }
        }

        try
        {
            await finished.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Dispose();
        }
    }

    /// <summary>Stops the pipeline (an in-flight request is cancelled); waiting alerts are counted as dropped.</summary>
    public void Dispose()
    {
        subscription.Dispose();
        lock (gate)
        {
            closed = true;
            dropped += queue.Count;
            queue.Clear();
        }

        deliveries.OnCompleted();
    }

    /// <summary>Sends what is waiting, batch after batch, until the queue is empty.</summary>
    private IObservable<Unit> Drain() => Observable.Defer(() =>
    {
        Volatile.Write(ref drainPending, 0);
        List<AlertNotification> batch;
        lock (gate)
        {
            if (queue.Count == 0)
            {
                return Observable.Empty<Unit>();
            }

            batch = new List<AlertNotification>(Math.Min(queue.Count, options.MaxBatchSize));
            while (batch.Count < options.MaxBatchSize && queue.Count > 0)
            {
                batch.Add(queue.Dequeue());
            }
        }

        return Deliver(batch, 1).Concat(Drain());
    });

    /// <summary>One try of a batch, after its turn under the rate limit; retried with back-off while failures are transient.</summary>
    private IObservable<Unit> Deliver(List<AlertNotification> batch, int attempt) =>
        Turn()
            .SelectMany(_ =>
            {
                Interlocked.Increment(ref requests);
                return Observable.FromAsync(cancellation => sink.SendAsync(batch, cancellation), scheduler);
            })
            .Do(_ =>
            {
                Interlocked.Add(ref sent, batch.Count);
                deliveries.OnNext(new AlertDelivery(AlertDeliveryOutcome.Sent, batch.Count, attempt, null));
            })
            .Catch<Unit, Exception>(error =>
            {
                var transient = error is not AlertDeliveryException { Transient: false };
                if (transient && attempt < options.MaxAttempts)
                {
                    deliveries.OnNext(new AlertDelivery(AlertDeliveryOutcome.Retrying, batch.Count, attempt, error));
                    var backoff = TimeSpan.FromTicks(options.RetryBackoff.Ticks << Math.Min(attempt - 1, 20));
                    return Observable.Timer(backoff, scheduler).SelectMany(_ => Deliver(batch, attempt + 1));
                }

                Interlocked.Add(ref failed, batch.Count);
                deliveries.OnNext(new AlertDelivery(AlertDeliveryOutcome.Failed, batch.Count, attempt, error));
                return Observable.Empty<Unit>();
            });

    /// <summary>Completes when the next request may start: at least one spacing after the previous one started.</summary>
    private IObservable<Unit> Turn() => Observable.Defer(() =>
    {
        var now = scheduler.Now;
        var at = nextRequest > now ? nextRequest : now;
        nextRequest = at + requestSpacing;
        return at > now ? Observable.Timer(at, scheduler).Select(_ => Unit.Default) : Observable.Return(Unit.Default);
    });
}
