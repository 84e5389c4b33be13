using System.CommandLine;
using StreamSeq.Cli.Commands;

var root = new RootCommand("streamseq: online sequence inference over files with the worker's models and processor (filtering, smoothing, forecasting, fitting, anomaly detection).")
{
    RunCommand.Create(Console.Out, Console.Error),
    FitCommand.Create(Console.Out, Console.Error),
    SimulateCommand.Create(Console.Out, Console.Error),
    PlotCommand.Create(Console.Out, Console.Error),
};
return root.Parse(args).Invoke();
