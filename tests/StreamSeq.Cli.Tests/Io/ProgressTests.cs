using System.Text.RegularExpressions;
using Spectre.Console;

namespace StreamSeq.Cli.Tests.Io;

/// <summary>How the progress bar looks on a terminal, rendered on a console of a given width.</summary>
public sealed partial class ProgressTests
{
    /// <summary>
    /// On an 80-column terminal, fit's status (<c>fit nar (bptt): epoch 12: training NLL 0.9050, validation NLL
    /// 0.8546</c>, 70 characters) left the bar one character wide and broke the percentage and the remaining time over
    /// three lines, one digit each, at every refresh. Every frame is now one line within the width, with a bar and the
    /// percentage on it, the status cut short with an ellipsis where it does not fit.
    /// </summary>
    [Theory]
    [InlineData(80)]
    [InlineData(60)]
    [InlineData(120)]
    public void Run_LongStatusOnANarrowTerminal_EveryFrameIsOneLineWithBarAndPercentage(int width)
    {
        var console = Terminal(width, out var text);

        var result = StreamSeq.Cli.Io.Progress.Run(console, "fit nar (bptt)", 100, (report, status) =>
        {
            for (var epoch = 1; epoch <= 3; epoch++)
            {
                report(epoch * 10);
                status($"epoch {epoch}: training NLL 0.9050, validation NLL 0.8546");
                Thread.Sleep(250);
            }

            return 7;
        });

        Assert.Equal(7, result);
        var lines = Ansi().Replace(text.ToString(), "\n").Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        var frames = lines.Where(l => l.Contains("fit nar", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(frames);
        Assert.All(lines, l => Assert.True(l.Length <= width, $"a line of {l.Length} characters on a {width}-column terminal: '{l}'"));
        Assert.All(frames, f => Assert.True(Bar().IsMatch(f), $"a frame without a bar and its percentage: '{f}'"));
        Assert.DoesNotContain(lines, l => !l.Contains("fit nar", StringComparison.Ordinal));
    }

    /// <summary>
    /// fit's bptt status put the training NLL first and the validation NLL, the one early stopping watches, last: on an
    /// 80-column terminal the cut fell inside it ("fit nar (bptt): epoch 1: training NLL 0.9050, validat…"). The status
    /// from the trainer now gives the validation NLL first, and a long label (a long model name) is shortened before the
    /// status is, so the epoch and validation NLL are on every frame at 80 columns.
    /// </summary>
    [Theory]
    [InlineData("fit nar (bptt)")]
    [InlineData("fit room-temperature-recurrent (bptt)")]
    public void Run_FitStatusAt80Columns_ShowsTheEpochAndTheWholeValidationNll(string label)
    {
        var spec = StreamSeq.Estimation.Specs.ModelSpec.Parse("""{"name":"nar","kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":2}""");
        var readings = Enumerable.Range(0, 60).Select(t => Math.Sin(t / 3.0)).ToArray();
        var statuses = new List<string>();
        new StreamSeq.Estimation.Recurrent.RecurrentKind().FitGradient(
            spec,
            [new StreamSeq.Estimation.Abstractions.ObservationSeries(1, readings)],
            new StreamSeq.Estimation.Learning.BpttOptions { Epochs = 2, Seed = 1, Progress = new StreamSeq.Cli.Io.SynchronousProgress<StreamSeq.Estimation.Learning.FitProgress>(p => statuses.Add(p.Message!)) });
        Assert.NotEmpty(statuses);

        foreach (var status in statuses)
        {
            var console = Terminal(80, out var text);

            StreamSeq.Cli.Io.Progress.Run(console, label, 100, (report, show) =>
            {
                report(50);
                show(status);
                Thread.Sleep(250);
                return 0;
            });

            var validation = ValidationNll().Match(status);
            var epoch = Epoch().Match(status);
            Assert.True(validation.Success && epoch.Success, $"a status without an epoch and a validation NLL: '{status}'");
            var frames = Ansi().Replace(text.ToString(), "\n").Split('\n').Select(l => l.TrimEnd()).Where(l => l.Contains(epoch.Value, StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(frames);
            Assert.All(frames, f => Assert.Contains(validation.Value, f, StringComparison.Ordinal));
            Assert.All(frames, f => Assert.True(f.Length <= 80 && Bar().IsMatch(f), $"a frame longer than 80 columns or without its bar: '{f}'"));
        }
    }

    /// <summary>An interactive console of <paramref name="width"/> columns, no colours, writing to <paramref name="text"/>.</summary>
    private static IAnsiConsole Terminal(int width, out StringWriter text)
    {
        text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = width;
        return console;
    }

    [GeneratedRegex(@"validation NLL -?\d+\.\d{4}")]
    private static partial Regex ValidationNll();

    [GeneratedRegex(@"epoch \d+")]
    private static partial Regex Epoch();

    [GeneratedRegex(@"[━─ ]{10,}\s+\d+%")]
    private static partial Regex Bar();

    [GeneratedRegex(@"\x1B\[[0-9;?]*[A-Za-z]|\r")]
    private static partial Regex Ansi();
}
