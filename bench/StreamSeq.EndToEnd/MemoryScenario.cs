using System.Text;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;

namespace StreamSeq.EndToEnd;

/// <summary>
/// Target (c): memory per stream for the local-linear-trend model, as the managed heap grows when many streams are
/// created through the processor into one partition's state store (the state object, its buffer, the stream id and
/// the store's index entry all count). A second round over the same streams shows the steady state allocates and
/// keeps nothing more per record.
/// </summary>
internal static class MemoryScenario
{
    public sealed record Result(int Streams, double BytesPerStream, double RetainedPerRecordSecondRound, double AllocatedPerRecordSteadyState, double ProcessorCpuMicroseconds);

    public static Result Execute(int streams, TextWriter log)
    {
        var router = Workload.Router();
        using var processor = new StreamProcessor(router, new ProcessorOptions(), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var sink = new DiscardingSink();
        var ids = Enumerable.Range(0, streams).Select(Workload.StreamId).ToArray();
        var values = Enumerable.Range(0, 6).Select(r => Encoding.UTF8.GetBytes($"{{\"time\":{Workload.StartMilliseconds + (r * 60_000L)},\"values\":[21.5]}}")).ToArray();

        // Warm up every code path on a separate store, so lazily created runtime structures are not counted.
        var warm = new StateStore();
        for (var i = 0; i < 1000; i++)
        {
            processor.ProcessEncoded(values[0], $"warm-{i}", double.NaN, default, default, warm, sink);
        }

        var store = new StateStore();
        var before = Heap();
        for (var i = 0; i < streams; i++)
        {
            processor.ProcessEncoded(values[0], ids[i], double.NaN, default, default, store, sink);
        }

        var afterFirst = Heap();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < streams; i++)
        {
            processor.ProcessEncoded(values[1], ids[i], double.NaN, default, default, store, sink);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var afterSecond = Heap();

        // Steady-state cost of the processor alone (decode, step, encode the filtered record), best of three rounds.
        var best = double.PositiveInfinity;
        for (var round = 2; round < values.Length; round++)
        {
            var cpu = Measure.CpuNow();
            for (var i = 0; i < streams; i++)
            {
                processor.ProcessEncoded(values[round], ids[i], double.NaN, default, default, store, sink);
            }

            best = Math.Min(best, (Measure.CpuNow() - cpu).TotalMicroseconds / streams);
        }

        GC.KeepAlive(store);
        GC.KeepAlive(warm);
        var result = new Result(streams, (double)(afterFirst - before) / streams, (double)(afterSecond - afterFirst) / streams, (double)allocated / streams, best);
        log.WriteLine($"memory: {result.BytesPerStream:F0} bytes per stream over {streams:N0} streams; second round keeps {result.RetainedPerRecordSecondRound:F1} and allocates {result.AllocatedPerRecordSteadyState:F1} bytes per record; the processor alone takes {result.ProcessorCpuMicroseconds:F2} us CPU per record");
        return result;
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private sealed class DiscardingSink : IRecordSink
    {
        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
        {
        }

        public void DeadLetter(in DeadLetter letter) => throw new InvalidOperationException($"unexpected dead letter: {letter.Message}");
    }
}
