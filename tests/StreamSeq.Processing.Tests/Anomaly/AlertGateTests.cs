using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using StreamSeq.Processing.Anomaly;

namespace StreamSeq.Processing.Tests.Anomaly;

public sealed class AlertGateTests
{
    [Fact]
    public void Step_Hysteresis_OneAlertPerEpisode()
    {
        var options = new AlertGateOptions { Hysteresis = true };
        var state = AlertGateState.Initial;
        //            beyond: 1   1   0(not cleared) 1   0(cleared) 1
        var emitted = new[]
        {
            AlertGate.Step(ref state, options, 1, true, false),
            AlertGate.Step(ref state, options, 2, true, false),
            AlertGate.Step(ref state, options, 3, false, false),
            AlertGate.Step(ref state, options, 4, true, false),
            AlertGate.Step(ref state, options, 5, false, true),
            AlertGate.Step(ref state, options, 6, true, false),
        };
        Assert.Equal([true, false, false, false, false, true], emitted);
        Assert.Equal(2, state.TotalAlerts);
        Assert.Equal(2, state.Suppressed);
    }

    [Fact]
    public void Step_MinIntervalAndRateLimit_SuppressInEventTime()
    {
        var options = new AlertGateOptions { Hysteresis = false, MinInterval = 2, MaxAlertsPerWindow = 2, RateWindow = 10 };
        var state = AlertGateState.Initial;
        var times = new double[] { 0, 1, 2, 3, 4, 5, 6, 10, 11, 12 };
        var emitted = times.Select(t => AlertGate.Step(ref state, options, t, true, false)).ToArray();

        // 0 emits; 1 too soon; 2 emits (2nd in window [0,10)); 4 and 6 hit the rate limit; 10 opens a new window.
        Assert.Equal([true, false, true, false, false, false, false, true, false, true], emitted);
    }

    [Fact]
    public void Gate_ObservableOfVerdicts_AppliesGatePerStreamInVirtualTime()
    {
        var scheduler = new HistoricalScheduler(DateTimeOffset.UnixEpoch);
        var verdicts = new Subject<AlertCandidate>();
        var alerts = new List<(string, double, DateTimeOffset)>();
        using var subscription = verdicts.Gate(new AlertGateOptions { Hysteresis = true })
            .Subscribe(a => alerts.Add((a.Stream, a.Time, scheduler.Now)));
        void At(double seconds, string stream, bool beyond, bool cleared) =>
            scheduler.ScheduleAbsolute(DateTimeOffset.UnixEpoch.AddSeconds(seconds), () => verdicts.OnNext(new AlertCandidate(stream, seconds, beyond, cleared, 1)));
        At(1, "a", true, false);
        At(2, "b", true, false);
        At(3, "a", true, false);
        At(4, "a", false, true);
        At(5, "a", true, false);
        At(6, "b", true, false);
        scheduler.AdvanceTo(DateTimeOffset.UnixEpoch.AddSeconds(10));
        Assert.Equal([("a", 1.0, DateTimeOffset.UnixEpoch.AddSeconds(1)), ("b", 2.0, DateTimeOffset.UnixEpoch.AddSeconds(2)), ("a", 5.0, DateTimeOffset.UnixEpoch.AddSeconds(5))], alerts);
    }

    [Fact]
    public void LimitRate_BurstPerKey_PassesAtMostMaxPerWindowInSchedulerTime()
    {
        var scheduler = new HistoricalScheduler(DateTimeOffset.UnixEpoch);
        var source = new Subject<string>();
        var passed = new List<(string, double)>();
        var dropped = 0;
        using var subscription = source.LimitRate(s => s, 2, TimeSpan.FromSeconds(10), scheduler, _ => dropped++)
            .Subscribe(s => passed.Add((s, (scheduler.Now - DateTimeOffset.UnixEpoch).TotalSeconds)));
        foreach (var t in new[] { 0, 1, 2, 3, 11, 12, 13 })
        {
            scheduler.ScheduleAbsolute(DateTimeOffset.UnixEpoch.AddSeconds(t), () => source.OnNext("x"));
        }

        scheduler.ScheduleAbsolute(DateTimeOffset.UnixEpoch.AddSeconds(1.5), () => source.OnNext("y"));
        scheduler.AdvanceTo(DateTimeOffset.UnixEpoch.AddSeconds(20));
        Assert.Equal([("x", 0.0), ("x", 1.0), ("y", 1.5), ("x", 11.0), ("x", 12.0)], passed);
        Assert.Equal(3, dropped);
    }
}
