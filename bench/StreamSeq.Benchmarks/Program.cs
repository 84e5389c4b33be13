using BenchmarkDotNet.Running;
using StreamSeq.Benchmarks.Recurrent;

if (args.Length == 1 && args[0] == "--recurrent-cpu-time")
{
    RecurrentCpuTimeProbe.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
