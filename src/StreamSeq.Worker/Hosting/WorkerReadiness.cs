using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Whether the worker is ready to be counted as serving: it has joined the consumer group, every partition the group
/// assigned it is restored from the changelog, and the broker answers. A StatefulSet rolling update waits for each pod
/// to be ready before it restarts the next, so this is what keeps a rollout from taking down the next worker while
/// this one still restores (or cannot reach Kafka).
/// </summary>
/// <remarks>
/// <para>
/// A worker with no partitions (the group has more members than the input topic has partitions) is ready once it has
/// joined: it holds nothing to restore, and a surplus pod that never turned ready would stall every rollout. With the
/// classic group protocol librdkafka reports its empty assignment, so this is exact.
/// </para>
/// <para>
/// With <c>group.protocol=consumer</c> (KIP-848) librdkafka reports no assignment to a member whose assignment stays
/// empty, so such a member counts as joined <see cref="EmptyAssignmentGrace"/> (three session timeouts) after its
/// loop started without any assignment. A member that receives partitions later turns not ready while it restores
/// them.
/// </para>
/// </remarks>
public sealed class WorkerReadiness(StreamWorkerService service, BrokerConnection broker, IOptions<KafkaTransportOptions> options, TimeProvider time)
{
    private readonly Lock gate = new();
    private DateTimeOffset? waitingSince;

    /// <summary>
    /// How long a member of a <c>consumer</c>-protocol group waits for an assignment before it counts as joined
    /// without partitions: three times <c>StreamSeq:Kafka:SessionTimeout</c>.
    /// </summary>
    public TimeSpan EmptyAssignmentGrace => options.Value.SessionTimeout * 3;

    /// <summary>Asks the broker (at most every two seconds) and answers.</summary>
    public async Task<(bool Ready, string Reason)> CheckAsync(CancellationToken cancellation)
    {
        await broker.ProbeAsync(cancellation).ConfigureAwait(false);
        return Current();
    }

    /// <summary>The answer from what is known now (the last broker answer included), without asking the broker.</summary>
    public (bool Ready, string Reason) Current()
    {
        var status = service.Worker.Status;
        var reachable = broker.Last;
        if (!status.Started)
        {
            Waiting(false);
            return (false, reachable is { Reachable: false } down ? $"waiting for the broker at {broker.BootstrapServers}: {down.Problem}" : "starting");
        }

        if (reachable is not { Reachable: true })
        {
            return (false, reachable is null ? "the broker has not answered yet" : $"the broker at {broker.BootstrapServers} does not answer: {reachable.Problem}");
        }

        if (status.Restoring)
        {
            return (false, "restoring state from the changelog");
        }

        if (status.Joined)
        {
            Waiting(false);
            // Partitions waiting for their changelog partition do not make the worker unready (it processes the
            // others, and a restart would not help), but the reason says so and what to do.
            return status.AwaitingChangelog is { Count: > 0 } awaiting
                ? (true, $"partitions [{string.Join(",", status.Partitions)}]; partitions [{string.Join(",", awaiting)}] wait, unprocessed, for their partition in the changelog '{options.Value.ChangelogTopic}' (add partitions to it)")
                : (true, $"partitions [{string.Join(",", status.Partitions)}]");
        }

        var since = Waiting(true);
        return options.Value.GroupProtocol == "consumer" && time.GetUtcNow() - since >= EmptyAssignmentGrace
            ? (true, $"no partitions assigned within {EmptyAssignmentGrace.TotalSeconds:F0} s (more members than partitions)")
            : (false, "waiting for the group to assign partitions");
    }

    private DateTimeOffset Waiting(bool waiting)
    {
        lock (gate)
        {
            waitingSince = waiting ? waitingSince ?? time.GetUtcNow() : null;
            return waitingSince ?? default;
        }
    }
}
