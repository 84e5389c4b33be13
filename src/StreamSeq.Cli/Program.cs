using System.CommandLine;
using StreamSeq.Cli.Commands;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Specs;

// Kinds from optional assemblies join the catalog before any spec is read.
ModelCatalog.Register(new OnnxRecurrentKind());

var root = new RootCommand("streamseq: online sequence inference over files with the worker's models and processor (filtering, smoothing, forecasting, fitting, anomaly detection), plus the tools around the worker (read a topic's committed records, run the embedded broker).")
{
    RunCommand.Create(Console.Out, Console.Error),
    FitCommand.Create(Console.Out, Console.Error),
    SimulateCommand.Create(Console.Out, Console.Error),
    DetectCommand.Create(Console.Out, Console.Error),
    GenerateCommand.Create(Console.Out, Console.Error),
    PlotCommand.Create(Console.Out, Console.Error),
    ReadCommand.Create(Console.OpenStandardOutput, Console.Error),
    BrokerCommand.Create(Console.Out, Console.Error),
};
return await CliInvocation.RunAsync(root, args, Console.Out, Console.Error).ConfigureAwait(false);
