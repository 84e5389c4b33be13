using System.Reactive.Concurrency;
using StreamSeq.Processing.Alerts;

namespace StreamSeq.Processing.Tests.Alerts;

/// <summary>
/// A sink in virtual time: records each request (when it started and what it carried) and answers as
/// <c>behave</c> says for that request number (1 for the first): after a virtual delay, with an exception, or never.
/// </summary>
internal sealed class VirtualSink(HistoricalScheduler scheduler, Func<int, VirtualSink.Answer>? behave = null) : IAlertSink
{
    private readonly List<TaskCompletionSource> held = [];
    private int inFlight;

    /// <summary>How one request is answered.</summary>
    public readonly record struct Answer(TimeSpan Delay, Exception? Error = null, bool Hang = false)
    {
        public static Answer Ok { get; } = new(TimeSpan.Zero);

        public static Answer After(double seconds) => new(TimeSpan.FromSeconds(seconds));

        public static Answer Fail(bool transient) => new(TimeSpan.Zero, new AlertDeliveryException("receiver said no", transient));

        public static Answer Never { get; } = new(TimeSpan.Zero, Hang: true);
    }

    public List<(double At, string[] Streams)> Requests { get; } = [];

    public int MaxInFlight { get; private set; }

    public Task SendAsync(IReadOnlyList<AlertNotification> batch, CancellationToken cancellationToken)
    {
        Requests.Add(((scheduler.Now - DateTimeOffset.UnixEpoch).TotalSeconds, [.. batch.Select(a => a.Stream)]));
        MaxInFlight = Math.Max(MaxInFlight, ++inFlight);
        var answer = behave?.Invoke(Requests.Count) ?? Answer.Ok;
        if (answer.Hang)
        {
            var hung = new TaskCompletionSource();
            held.Add(hung);
            return hung.Task.ContinueWith(_ => inFlight--, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        if (answer.Delay <= TimeSpan.Zero)
        {
            inFlight--;
            return answer.Error is null ? Task.CompletedTask : Task.FromException(answer.Error);
        }

        var done = new TaskCompletionSource();
        scheduler.Schedule(answer.Delay, () =>
        {
            inFlight--;
            if (answer.Error is null)
            {
                done.SetResult();
            }
            else
            {
                done.SetException(answer.Error);
            }
        });
        return done.Task;
    }

    /// <summary>Lets every hung request succeed now.</summary>
    public void Release()
    {
        foreach (var h in held)
        {
            h.TrySetResult();
        }

        held.Clear();
    }
}
