using BenchmarkDotNet.Running;
using StreamSeq.Benchmarks.Gaussian;
using StreamSeq.Benchmarks.Recurrent;

if (args.Length == 1 && args[0] == "--recurrent-cpu-time")
{
    RecurrentCpuTimeProbe.Run();
    return;
}

if (args.Length == 1 && args[0] == "--gaussian-cpu-time")
{
    GaussianCpuTimeProbe.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
