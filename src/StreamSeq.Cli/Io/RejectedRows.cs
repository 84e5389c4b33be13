namespace StreamSeq.Cli.Io;

/// <summary>Reports rejected rows on stderr (the first few, then a count), safe for a terminal and for several threads.</summary>
internal sealed class RejectedRows(TextWriter errors, int maxReported = 20, string? hint = null)
{
    private readonly Lock gate = new();
    private long count;

    public long Count
    {
        get
        {
            lock (gate)
            {
                return count;
            }
        }
    }

    public void Report(string message)
    {
        lock (gate)
        {
            count++;
            if (count <= maxReported)
            {
                errors.WriteLine(TerminalText.Clean(message));
            }
            else if (count == maxReported + 1)
            {
                errors.WriteLine($"(further rejected rows are counted but not listed{hint})");
            }
        }
    }
}
