using System.Text;

namespace StreamSeq.EndToEnd;

/// <summary>The harness's Markdown section: targets, results and the raw runs.</summary>
internal sealed class Report(HarnessSizes sizes, string loadBefore)
{
    public ThroughputScenario.Result? Throughput { get; set; }

    public List<LatencyScenario.Result> Latency { get; } = [];

    public MemoryScenario.Result? Memory { get; set; }

    public RestoreScenario.Result? Restore { get; set; }

    public string LoadAfter { get; set; } = string.Empty;

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("## End to end on the embedded broker");
        md.AppendLine();
        md.AppendLine($"4 input partitions, {sizes.Streams:N0} streams, local-linear-trend Kalman model (`bench/StreamSeq.EndToEnd/Workload.cs`), commit interval 100 ms, batches of at most 10,000 records, `filtered` output only (no smoothing, forecasts or rules). The broker runs in the same process, so every figure includes its work. Load average {loadBefore} before, {LoadAfter} after.");
        md.AppendLine();
        md.AppendLine("| target (issue 3) | measured | goal | met |");
        md.AppendLine("|---|---|---|---|");
        if (Throughput is { } t)
        {
            md.AppendLine($"| (a) exactly-once throughput / pass-through | {t.Ratio:P0} wall clock ({t.WorkerPerSecond:N0} vs {t.PassThroughPerSecond:N0} records/s); {t.CpuRatio:P0} by CPU time per record | >= 50% | {Met(t.Ratio >= 0.5)} |");
        }

        foreach (var l in Latency)
        {
            var goal = l.CommitInterval.TotalMilliseconds + 20;
            var what = l.Fraction == 0.5 ? "(b) p99 produce-to-visible latency at half the maximum throughput" : $"(b') the same at {l.Fraction:P0} of the maximum";
            md.AppendLine($"| {what} | {l.P99:F0} ms at {l.AchievedRate:N0} records/s (p50 {l.P50:F0} ms, p90 {l.P90:F0} ms, max {l.Max:F0} ms; commits took p50 {l.CommitP50:F1} ms, p99 {l.CommitP99:F1} ms; backlog when input stopped {l.BacklogAtEnd:N0}) | <= {goal:F0} ms | {Met(l.P99 <= goal)} |");
        }

        if (Memory is { } m)
        {
            md.AppendLine($"| (c) memory per stream | {m.BytesPerStream:F0} bytes ({m.Streams:N0} streams) | <= 512 bytes | {Met(m.BytesPerStream <= 512)} |");
        }

        if (Restore is { } r)
        {
            md.AppendLine($"| (d) state restore | {r.StreamsPerSecond:N0} streams/s ({r.StreamsPerCpuSecond:N0} per CPU second) | >= 200,000 streams/s | {Met(r.StreamsPerSecond >= 200_000)} |");
        }

        md.AppendLine();
        if (Throughput is { } tr)
        {
            md.AppendLine($"Throughput runs ({tr.Streams:N0} streams x {tr.Rounds} rounds = {tr.Streams * tr.Rounds:N0} records each, alternating, each on a fresh group and fresh output topics; committed outputs counted afterwards with a read_committed consumer):");
            md.AppendLine();
            md.AppendLine("| loop | records/s | CPU us/record | allocated B/record | transactions | committed outputs |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var run in tr.Runs)
            {
                md.AppendLine($"| {run.Loop} | {run.PerSecond:N0} | {run.CpuMicrosecondsPerRecord:F1} | {run.BytesAllocatedPerRecord:F0} | {run.Commits:N0} | {run.Committed:N0} |");
            }

            md.AppendLine();
        }

        if (Latency.Count > 0)
        {
            md.AppendLine("Latency: input paced at a fraction of the worker's median throughput above, produced and read in the same process (a read_committed reader of the `filtered` topic); latency is the time the output became visible minus its timestamp, which the worker copies from the input record, whose producer stamped it at produce time. The embedded broker shows uncommitted records to read_committed readers, so an output counts as visible at the later of when it was read and when its transaction committed (from the transaction stamp each output carries). Producer, reader, worker and broker share the machine, so the worker sustains less than its throughput alone; a backlog at the end means it fell behind.");
            md.AppendLine();
        }

        if (Memory is { } mem)
        {
            md.AppendLine($"Memory: heap growth over {mem.Streams:N0} new streams in one state store, after a full compacting collection. A second record per stream keeps {mem.RetainedPerRecordSecondRound:F1} bytes and allocates {mem.AllocatedPerRecordSteadyState:F1} bytes per record in the processor (decode, step, encode); the processor alone takes {mem.ProcessorCpuMicroseconds:F2} us of CPU per record (best of four rounds over all streams).");
            md.AppendLine();
        }

        if (Restore is { } rs)
        {
            md.AppendLine($"Restore: {rs.Streams:N0} states of {rs.StateBytes:F0} bytes over {rs.Partitions} changelog partitions, read by the worker's changelog restorer (read_committed, to the end of every partition) and decoded into state stores by the processor; median of {rs.Runs.Count} runs after a first, cold one ({rs.Cold.StreamsPerSecond:N0} streams/s, {rs.Cold.StreamsPerCpuSecond:N0} per CPU second, as at a worker's start before the JIT has optimised the path). Reading alone: {rs.ReadPerSecond:N0} streams/s; decoding alone: {rs.DecodePerSecond:N0} streams/s. The embedded broker holds at most 5 MiB per partition, hence {rs.Partitions} partitions; a real changelog is compacted to one state per stream, as here.");
            md.AppendLine();
        }

        return md.ToString();
    }

    private static string Met(bool met) => met ? "yes" : "**no**";
}
