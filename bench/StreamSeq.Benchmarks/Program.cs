using BenchmarkDotNet.Running;
using StreamSeq.Benchmarks.Recurrent;

if (args.Length == 1 && args[0] == "--recurrent-cpu-time")
{
    RecurrentCpuTimeProbe.Run();
    return;
}

if (args.Length is 1 or 2 && args[0] == "--estimator-cpu-time")
{
    StreamSeq.Benchmarks.EstimatorCpuTimeProbe.Run(args.Length == 2 ? args[1] : null);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
