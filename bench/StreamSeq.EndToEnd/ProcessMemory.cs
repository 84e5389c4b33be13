namespace StreamSeq.EndToEnd;

/// <summary>The process's resident memory from /proc (Linux): current, peak, and resetting the peak.</summary>
internal static class ProcessMemory
{
    /// <summary>Resets the kernel's peak resident set (VmHWM) to the current one; false where that is not possible.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The peak resident set since start or since the last <see cref="ResetPeak"/>, in bytes (0: unknown).</summary>
    public static long PeakResident() => Read("VmHWM:");

    /// <summary>The resident set now, in bytes.</summary>
    public static long Resident() => Read("VmRSS:") is > 0 and var kb ? kb : Environment.WorkingSet;

    private static long Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
