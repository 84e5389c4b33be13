using Spectre.Console;

namespace StreamSeq.Cli.Io;

/// <summary>A progress bar on stderr for long jobs, shown only when stderr is an interactive terminal.</summary>
internal static class Progress
{
    public static T Run<T>(TextWriter stderr, string label, long total, Func<Action<long>, T> work) =>
        Run(stderr, label, total, (Action<long> report, Action<string?> _) => work(report));

    /// <summary>As <see cref="Run{T}(TextWriter, string, long, Func{Action{long}, T})"/>, with a status text shown after the label.</summary>
    public static T Run<T>(TextWriter stderr, string label, long total, Func<Action<long>, Action<string?>, T> work)
    {
        if (!ReferenceEquals(TerminalWriter.Unwrap(stderr), Console.Error) || Console.IsErrorRedirected || total <= 0)
        {
            return work(_ => { }, _ => { });
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                // The label and status name files and models: shown as text, never as Spectre markup or control characters.
                var shown = Markup.Escape(TerminalText.Clean(label));
                var task = ctx.AddTask(shown, maxValue: total);
                result = work(done => task.Value = done, status => task.Description = status is null ? shown : $"{shown}: {Markup.Escape(TerminalText.Clean(status))}");
                task.Value = total;
            });
        return result;
    }
}
