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
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = width;

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

    [GeneratedRegex(@"[━─ ]{10,}\s+\d+%")]
    private static partial Regex Bar();

    [GeneratedRegex(@"\x1B\[[0-9;?]*[A-Za-z]|\r")]
    private static partial Regex Ansi();
}
