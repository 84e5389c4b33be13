using BenchmarkDotNet.Running;
using StreamSeq.Benchmarks.Gaussian;
using StreamSeq.Benchmarks.Quick;
using StreamSeq.Benchmarks.Recurrent;

if (args.Length == 1 && args[0] == "--recurrent-cpu-time")
{
    RecurrentCpuTimeProbe.Run();
    return 0;
}

if (args.Length >= 1 && args[0] == "--quick")
{
    return QuickRun.Run(args.Length > 1 ? args[1] : null, args.Length > 2 ? args[2] : null);
}

if (args.Length == 1 && args[0] == "--gaussian-cpu-time")
{
    GaussianCpuTimeProbe.Run();
    return 0;
}

if (args.Length is 1 or 2 && args[0] == "--estimator-cpu-time")
{
    StreamSeq.Benchmarks.EstimatorCpuTimeProbe.Run(args.Length == 2 ? args[1] : null);
    return 0;
}

if (args.Length is 1 or 2 && args[0] == "--detect-cpu-time")
{
    StreamSeq.Benchmarks.Codecs.DetectCpuTimeProbe.Run(args.Length == 2 ? args[1] : null);
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
