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

        return Run(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }), label, total, work);
    }

    /// <summary>The bar on a given console (the terminal's, or a test's).</summary>
    /// <remarks>
    /// Every frame is one line within the console's width: the bar narrows (to 10 columns at least) to leave the label
    /// and status their room, and a label and status longer than that are cut short with an ellipsis, a long label
    /// first. Left to itself the layout kept the whole text and squeezed the bar to one column and the percentage and
    /// remaining time into a column one digit wide, three lines high, as fit's status did on an 80-column terminal.
    /// </remarks>
    internal static T Run<T>(IAnsiConsole console, string label, long total, Func<Action<long>, Action<string?>, T> work)
    {
        var bar = new ProgressBarColumn();
        var clean = TerminalText.Clean(label);

        // The label and status name files and models: shown as text, never as Spectre markup or control characters.
        string Describe(string? status)
        {
            // Besides the text and the bar: the percentage (4 columns), the remaining time (8), a space between each two
            // of the four columns, and the last column left empty, where a terminal would wrap.
            var room = console.Profile.Width - 16;
            var text = status is null ? clean : $"{clean}: {status}";
            bar.Width = Math.Clamp(room - text.Length, 10, 40);
            var fits = Math.Max(room - bar.Width.Value, 1);

            // The status carries the numbers that change (fit's epoch and validation NLL); the label stays the same
            // all along. A long label is shortened first, to no fewer than 16 columns, so that a long model name does
            // not push the numbers off the line.
            if (status is not null && text.Length > fits && clean.Length > 16)
            {
                text = $"{Cut(clean, Math.Max(fits - status.Length - 2, 16))}: {status}";
            }

            return Markup.Escape(Cut(text, fits));
        }

        static string Cut(string text, int fits)
        {
            if (text.Length <= fits)
            {
                return text;
            }

            var cut = fits - 1;
            if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
            {
                cut--;
            }

            return string.Concat(text.AsSpan(0, Math.Max(cut, 0)), "…");
        }

        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), bar, new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Describe(null), maxValue: total);
                result = work(done => task.Value = done, status => task.Description = Describe(status is null ? null : TerminalText.Clean(status)));
                task.Value = total;
            });
        return result;
    }
}
