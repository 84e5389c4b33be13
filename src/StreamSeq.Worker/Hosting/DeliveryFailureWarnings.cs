namespace StreamSeq.Worker.Hosting;

/// <summary>
/// When the simulator warns about readings the broker did not take: at the first failure, then at most once per
/// interval while more fail, each warning naming the failures since the previous one.
/// </summary>
/// <param name="interval">The shortest time between two warnings.</param>
internal sealed class DeliveryFailureWarnings(TimeSpan interval)
{
    private long reported;
    private DateTimeOffset? lastWarning;

    /// <summary>
    /// Whether to warn now, given <paramref name="failed"/> failures so far; when so, <paramref name="since"/> is how
    /// many are new since the previous warning. <paramref name="final"/> (the simulator has stopped) ignores the interval,
    /// so no failure goes unreported.
    /// </summary>
    public bool ShouldWarn(long failed, DateTimeOffset now, bool final, out long since)
    {
        since = failed - reported;
        if (since <= 0 || (!final && lastWarning is { } last && now - last < interval))
        {
            return false;
        }

        reported = failed;
        lastWarning = now;
        return true;
    }
}
