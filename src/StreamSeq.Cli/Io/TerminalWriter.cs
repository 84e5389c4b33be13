using System.Text;

namespace StreamSeq.Cli.Io;

/// <summary>
/// Standard error as the commands write to it: whatever a message echoes (a file name, a stream id, a model's name,
/// a value from a row) goes through <see cref="TerminalText.Escape"/>, so no control or bidirectional character
/// reaches the terminal raw and a newline inside a name cannot split a one-line message. Only
/// <see cref="WriteLine()"/> ends a line. Every command gets its stderr through this one writer
/// (<see cref="Commands.CliCommands.Root"/>), so a message added later is covered without thinking of it.
/// </summary>
internal sealed class TerminalWriter : TextWriter
{
    private TerminalWriter(TextWriter inner)
        : base(inner.FormatProvider)
    {
        Inner = inner;
        CoreNewLine = inner.NewLine.ToCharArray();
    }

    /// <summary>The writer the escaped text goes to.</summary>
    public TextWriter Inner { get; }

    public override Encoding Encoding => Inner.Encoding;

    /// <summary><paramref name="writer"/> as a <see cref="TerminalWriter"/> (itself when it already is one).</summary>
    public static TextWriter Wrap(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer as TerminalWriter ?? new TerminalWriter(writer);
    }

    /// <summary>The writer under any <see cref="TerminalWriter"/> (to tell whether it is the console's).</summary>
    public static TextWriter Unwrap(TextWriter writer) => writer is TerminalWriter terminal ? terminal.Inner : writer;

    public override void Write(char value) => Inner.Write(TerminalText.Escape(value.ToString()));

    public override void Write(char[] buffer, int index, int count) => Inner.Write(TerminalText.Escape(new string(buffer, index, count)));

    public override void Write(ReadOnlySpan<char> buffer) => Inner.Write(TerminalText.Escape(new string(buffer)));

    public override void Write(string? value) => Inner.Write(TerminalText.Escape(value));

    public override void WriteLine() => Inner.WriteLine();

    public override void WriteLine(string? value) => Inner.WriteLine(TerminalText.Escape(value));

    public override void WriteLine(ReadOnlySpan<char> buffer) => Inner.WriteLine(TerminalText.Escape(new string(buffer)));

    public override void WriteLine(char[] buffer, int index, int count) => Inner.WriteLine(TerminalText.Escape(new string(buffer, index, count)));

    public override Task WriteAsync(string? value) => Inner.WriteAsync(TerminalText.Escape(value));

    public override Task WriteAsync(char value) => Inner.WriteAsync(TerminalText.Escape(value.ToString()));

    public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) =>
        Inner.WriteAsync(TerminalText.Escape(new string(buffer.Span)).AsMemory(), cancellationToken);

    public override Task WriteLineAsync() => Inner.WriteLineAsync();

    public override Task WriteLineAsync(string? value) => Inner.WriteLineAsync(TerminalText.Escape(value));

    public override Task WriteLineAsync(char value) => Inner.WriteLineAsync(TerminalText.Escape(value.ToString()));

    public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) =>
        Inner.WriteLineAsync(TerminalText.Escape(new string(buffer.Span)).AsMemory(), cancellationToken);

    public override void Flush() => Inner.Flush();

    public override Task FlushAsync() => Inner.FlushAsync();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);
}
