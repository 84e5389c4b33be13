using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Benchmarks.Recurrent;

/// <summary>
/// The oracle LSTM (input 3, 2 layers, hidden 8, linear head 8→2): managed engine in f64 and f32 against ONNX Runtime
/// on the exported graph of the same weights. Each operation is one stream-step including the head output; batched
/// cases divide by the 1,024 streams.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
public class OracleLstmBenchmarks
{
    private const int Batch = 1024;

    private LstmNetwork<double> network64 = null!;
    private LinearHead<double> head64 = null!;
    private LstmNetwork<float> network32 = null!;
    private LinearHead<float> head32 = null!;
    private OnnxRecurrentModel onnx = null!;
    private double[] state64 = null!, x64 = null!, y64 = null!;
    private float[] state32 = null!, x32 = null!, y32 = null!, onnxState = null!;
    private float[] batchX = null!, batchStates = null!, batchY = null!, onnxBatchStates = null!;

    [GlobalSetup]
    public void Setup()
    {
        var weights = TorchJsonFormat.ReadFile(RecurrentBenchmarkData.Fixture("lstm_weights.json"));
        network64 = new LstmNetwork<double>(weights, 3, 8, 2);
        head64 = new LinearHead<double>(weights, 8, 2);
        network32 = new LstmNetwork<float>(weights, 3, 8, 2);
        head32 = new LinearHead<float>(weights, 8, 2);
        onnx = new OnnxRecurrentModel(RecurrentBenchmarkData.Fixture("lstm_model.onnx"));
        RecurrentBenchmarkData.CheckAgreement(network32, onnx, 4);

        x32 = [0.3f, -1.2f, 0.27f];
        x64 = x32.Select(v => (double)v).ToArray();
        state64 = new double[network64.StateLength];
        state32 = new float[network32.StateLength];
        onnxState = new float[onnx.StateLength];
        y64 = new double[2];
        y32 = new float[2];
        batchX = RecurrentBenchmarkData.RandomVector(3, Batch * 3);
        batchStates = new float[Batch * network32.StateLength];
        onnxBatchStates = new float[Batch * onnx.StateLength];
        batchY = new float[Batch * 2];
    }

    [GlobalCleanup]
    public void Cleanup() => onnx.Dispose();

    [Benchmark(Description = "managed f64, 1 stream")]
    public double ManagedDoubleStep()
    {
        network64.Step(x64, state64);
        head64.Evaluate(network64.GetOutput(state64), y64);
        return y64[0];
    }

    [Benchmark(Description = "managed f32, 1 stream")]
    public float ManagedSingleStep()
    {
        network32.Step(x32, state32);
        head32.Evaluate(network32.GetOutput(state32), y32);
        return y32[0];
    }

    [Benchmark(Description = "ONNX Runtime f32, 1 stream")]
    public float OnnxStep()
    {
        onnx.Step(x32, onnxState, y32);
        return y32[0];
    }

    [Benchmark(Description = "managed f32, batch 1024", OperationsPerInvoke = Batch)]
    public float ManagedBatch()
    {
        network32.StepBatch(Batch, batchX, batchStates);
        head32.EvaluateBatch(Batch, batchStates.AsSpan(network32.GetHiddenOffset(1)), network32.StateLength, batchY);
        return batchY[0];
    }

    [Benchmark(Description = "ONNX Runtime f32, batch 1024", OperationsPerInvoke = Batch)]
    public float OnnxBatch()
    {
        onnx.StepBatch(Batch, batchX, onnxBatchStates, batchY);
        return batchY[0];
    }
}
