using Spectre.Console;

namespace StreamSeq.Cli.Io;

/// <summary>A progress bar on stderr for long jobs, shown only when stderr is an interactive terminal.</summary>
internal static class Progress
{
    public static T Run<T>(TextWriter stderr, string label, long total, Func<Action<long>, T> work)
    {
        if (!ReferenceEquals(stderr, Console.Error) || Console.IsErrorRedirected || total <= 0)
        {
            return work(_ => { });
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(label, maxValue: total);
                result = work(done => task.Value = done);
                task.Value = total;
            });
        return result;
    }
}
