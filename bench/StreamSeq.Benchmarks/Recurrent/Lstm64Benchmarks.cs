using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Benchmarks.Recurrent;

/// <summary>
/// A one-layer LSTM with input 3 and hidden 64 (no head): the managed engine against ONNX Runtime running a graph built
/// from the same weights. Each operation is one stream-step; batched cases divide by the 1,024 streams.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
public class Lstm64Benchmarks
{
    private const int Batch = 1024;
    private const int Input = 3;
    private const int Hidden = 64;

    private LstmNetwork<float> network32 = null!;
    private LstmNetwork<double> network64 = null!;
    private OnnxRecurrentModel onnx = null!;
    private OnnxRecurrentModel onnxTwoThreads = null!;
    private string modelPath = null!;
    private float[] x32 = null!, state32 = null!, onnxState = null!;
    private double[] x64 = null!, state64 = null!;
    private float[] batchX = null!, batchStates = null!, onnxBatchStates = null!;

    [GlobalSetup]
    public void Setup()
    {
        var weights = RecurrentBenchmarkData.RandomLstm(64, Input, Hidden);
        network32 = new LstmNetwork<float>(weights, Input, Hidden);
        network64 = new LstmNetwork<double>(weights, Input, Hidden);
        modelPath = Path.Combine(Path.GetTempPath(), $"streamseq-lstm64-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(modelPath, OnnxLstmGraph.Build(weights, Input, Hidden));
        onnx = new OnnxRecurrentModel(modelPath);
        onnxTwoThreads = new OnnxRecurrentModel(modelPath, new OnnxRecurrentModelOptions { IntraOpThreads = 2 });
        RecurrentBenchmarkData.CheckAgreement(network32, onnx, 5);

        x32 = RecurrentBenchmarkData.RandomVector(4, Input);
        x64 = x32.Select(v => (double)v).ToArray();
        state32 = new float[network32.StateLength];
        state64 = new double[network64.StateLength];
        onnxState = new float[onnx.StateLength];
        batchX = RecurrentBenchmarkData.RandomVector(5, Batch * Input);
        batchStates = new float[Batch * network32.StateLength];
        onnxBatchStates = new float[Batch * onnx.StateLength];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        onnx.Dispose();
        onnxTwoThreads.Dispose();
        File.Delete(modelPath);
    }

    [Benchmark(Description = "managed f32, 1 stream")]
    public float ManagedSingleStep()
    {
        network32.Step(x32, state32);
        return state32[0];
    }

    [Benchmark(Description = "managed f64, 1 stream")]
    public double ManagedDoubleStep()
    {
        network64.Step(x64, state64);
        return state64[0];
    }

    [Benchmark(Description = "ONNX Runtime f32, 1 stream")]
    public float OnnxStep()
    {
        onnx.Step(x32, onnxState, []);
        return onnxState[0];
    }

    [Benchmark(Description = "managed f32, batch 1024", OperationsPerInvoke = Batch)]
    public float ManagedBatch()
    {
        network32.StepBatch(Batch, batchX, batchStates);
        return batchStates[0];
    }

    [Benchmark(Description = "ONNX Runtime f32, batch 1024", OperationsPerInvoke = Batch)]
    public float OnnxBatch()
    {
        onnx.StepBatch(Batch, batchX, onnxBatchStates, []);
        return onnxBatchStates[0];
    }

    [Benchmark(Description = "ONNX Runtime f32, batch 1024, 2 threads", OperationsPerInvoke = Batch)]
    public float OnnxBatchTwoThreads()
    {
        onnxTwoThreads.StepBatch(Batch, batchX, onnxBatchStates, []);
        return onnxBatchStates[0];
    }
}
