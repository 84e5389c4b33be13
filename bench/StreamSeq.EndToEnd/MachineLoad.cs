namespace StreamSeq.EndToEnd;

/// <summary>The 1/5/15-minute load averages, to put wall-clock numbers in context.</summary>
internal static class MachineLoad
{
    public static string Read()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{fields[0]} {fields[1]} {fields[2]} on {Environment.ProcessorCount} cores";
        }
        catch (IOException)
        {
            return $"unknown on {Environment.ProcessorCount} cores";
        }
        catch (UnauthorizedAccessException)
        {
            return $"unknown on {Environment.ProcessorCount} cores";
        }
    }
}
