namespace StreamSeq.Processing.Alerts;

/// <summary>What happened to one request of an <see cref="AlertDispatcher"/>.</summary>
public enum AlertDeliveryOutcome
{
    /// <summary>The batch was delivered.</summary>
    Sent,

    /// <summary>The request failed transiently; the batch will be tried again.</summary>
    Retrying,

    /// <summary>The batch was given up: a permanent failure, or the last attempt failed.</summary>
    Failed,
}
