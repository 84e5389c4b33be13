using StreamSeq.Cli.Commands;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Specs;

// Kinds from optional assemblies join the catalog before any spec is read.
ModelCatalog.Register(new OnnxRecurrentKind());

var root = CliCommands.Root(Console.Out, Console.Error, Console.OpenStandardOutput);
return await CliInvocation.RunAsync(root, args, Console.Out, Console.Error).ConfigureAwait(false);
