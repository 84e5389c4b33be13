using StreamSeq.Nab;

return NabCommandLine.Run(args, Console.Out, Console.Error);
