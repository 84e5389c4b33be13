using System.Diagnostics;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Benchmarks.Recurrent;

/// <summary>
/// A contention-tolerant companion to the BenchmarkDotNet suites: times the same cases in process CPU time (best
/// of 7 rounds) instead of wall-clock time, so a shared, oversubscribed machine inflates the numbers less.
/// Run with <c>dotnet run -c Release -- --recurrent-cpu-time</c>.
/// </summary>
internal static class RecurrentCpuTimeProbe
{
    public static void Run()
    {
        Console.WriteLine($"{"case",-42} {"CPU ns per stream-step",24} {"stream-steps/s",16}");
        var weights = TorchJsonFormat.ReadFile(RecurrentBenchmarkData.Fixture("lstm_weights.json"));
        var n64 = new LstmNetwork<double>(weights, 3, 8, 2);
        var h64 = new LinearHead<double>(weights, 8, 2);
        var n32 = new LstmNetwork<float>(weights, 3, 8, 2);
        var h32 = new LinearHead<float>(weights, 8, 2);
        using var onnx = new OnnxRecurrentModel(RecurrentBenchmarkData.Fixture("lstm_model.onnx"));
        double[] x64 = [0.3, -1.2, 0.27], s64 = new double[32], y64 = new double[2];
        float[] x32 = [0.3f, -1.2f, 0.27f], s32 = new float[32], so = new float[32], y32 = new float[2];
        var bx = RecurrentBenchmarkData.RandomVector(3, 1024 * 3);
        float[] bs = new float[1024 * 32], bo = new float[1024 * 32], by = new float[2048];
        Measure("oracle LSTM managed f64, 1 stream", 200_000, 1, () => { n64.Step(x64, s64); h64.Evaluate(n64.GetOutput(s64), y64); });
        Measure("oracle LSTM managed f32, 1 stream", 200_000, 1, () => { n32.Step(x32, s32); h32.Evaluate(n32.GetOutput(s32), y32); });
        Measure("oracle LSTM ONNX Runtime f32, 1 stream", 20_000, 1, () => onnx.Step(x32, so, y32));
        Measure("oracle LSTM managed f32, batch 1024", 300, 1024, () => { n32.StepBatch(1024, bx, bs); h32.EvaluateBatch(1024, bs.AsSpan(16), 32, by); });
        Measure("oracle LSTM ONNX Runtime f32, batch 1024", 300, 1024, () => onnx.StepBatch(1024, bx, bo, by));

        var w = RecurrentBenchmarkData.RandomLstm(64, 3, 64);
        var l32 = new LstmNetwork<float>(w, 3, 64);
        var l64 = new LstmNetwork<double>(w, 3, 64);
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-lstm64-probe-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, OnnxLstmGraph.Build(w, 3, 64));
        try
        {
            using var o64 = new OnnxRecurrentModel(path);
            RecurrentBenchmarkData.CheckAgreement(l32, o64, 5);
            float[] t32 = new float[128], to = new float[128], cs = new float[1024 * 128], co = new float[1024 * 128];
            var t64 = new double[128];
            Measure("LSTM h64 managed f32, 1 stream", 100_000, 1, () => l32.Step(x32, t32));
            Measure("LSTM h64 managed f64, 1 stream", 100_000, 1, () => l64.Step(x64, t64));
            Measure("LSTM h64 ONNX Runtime f32, 1 stream", 20_000, 1, () => o64.Step(x32, to, []));
            Measure("LSTM h64 managed f32, batch 1024", 100, 1024, () => l32.StepBatch(1024, bx, cs));
            Measure("LSTM h64 ONNX Runtime f32, batch 1024", 100, 1024, () => o64.StepBatch(1024, bx, co, []));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Measure(string name, int operations, int streamsPerOperation, Action step)
    {
        for (var i = 0; i < operations / 10; i++)
        {
            step();
        }

        var process = Process.GetCurrentProcess();
        var best = double.MaxValue;
        for (var round = 0; round < 7; round++)
        {
            process.Refresh();
            var start = process.TotalProcessorTime;
            for (var i = 0; i < operations; i++)
            {
                step();
            }

            process.Refresh();
            best = Math.Min(best, (process.TotalProcessorTime - start).TotalSeconds / operations / streamsPerOperation);
        }

        Console.WriteLine($"{name,-42} {best * 1e9,24:F1} {1 / best,16:N0}");
    }
}
