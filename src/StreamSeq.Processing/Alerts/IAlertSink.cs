namespace StreamSeq.Processing.Alerts;

/// <summary>Where <see cref="AlertDispatcher"/> delivers batches of alerts (a webhook, a chat channel, a log).</summary>
public interface IAlertSink
{
    /// <summary>Delivers one batch.</summary>
    /// <exception cref="AlertDeliveryException">The batch was not delivered; <see cref="AlertDeliveryException.Transient"/> says whether a retry may succeed.</exception>
    Task SendAsync(IReadOnlyList<AlertNotification> batch, CancellationToken cancellationToken);
}
