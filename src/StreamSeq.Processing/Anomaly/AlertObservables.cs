using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace StreamSeq.Processing.Anomaly;

/// <summary>
/// System.Reactive operators for alert streams. <see cref="Gate"/> applies the same event-time gate as the processor
/// (hysteresis, suppression, rate limit per stream) to any observable of verdicts; <see cref="LimitRate{T}"/> throttles a
/// notification stream per key in scheduler time (for log lines, webhooks and the dashboard, where wall-clock pacing
/// is what matters). Both run in virtual time under a test scheduler.
/// </summary>
public static class AlertObservables
{
    /// <summary>Applies the alert gate per stream and emits the candidates that become alerts.</summary>
    public static IObservable<AlertCandidate> Gate(this IObservable<AlertCandidate> source, AlertGateOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return Observable.Defer(() =>
        {
            var states = new Dictionary<string, AlertGateState>(StringComparer.Ordinal);
            return source.Where(c =>
            {
                var state = states.TryGetValue(c.Stream, out var s) ? s : AlertGateState.Initial;
                var emit = AlertGate.Step(ref state, options, c.Time, c.Beyond, c.Cleared);
                states[c.Stream] = state;
                return emit;
            });
        });
    }

    /// <summary>
    /// Passes at most <paramref name="maxPerWindow"/> items per key in each window of scheduler time; the rest are
    /// dropped and counted through <paramref name="onDropped"/>.
    /// </summary>
    public static IObservable<T> LimitRate<T>(this IObservable<T> source, Func<T, string> key, int maxPerWindow, TimeSpan window, IScheduler scheduler, Action<T>? onDropped = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerWindow, 1);
        return Observable.Defer(() =>
        {
            var windows = new Dictionary<string, (DateTimeOffset Start, int Count)>(StringComparer.Ordinal);
            return source.Where(item =>
            {
                var now = scheduler.Now;
                var k = key(item);
                var (start, count) = windows.TryGetValue(k, out var w) && now - w.Start < window ? w : (now, 0);
                if (count >= maxPerWindow)
                {
                    onDropped?.Invoke(item);
                    windows[k] = (start, count);
                    return false;
                }

                windows[k] = (start, count + 1);
                return true;
            });
        });
    }
}
