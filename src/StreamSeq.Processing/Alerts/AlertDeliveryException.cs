namespace StreamSeq.Processing.Alerts;

/// <summary>A batch of alerts was not delivered.</summary>
public sealed class AlertDeliveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AlertDeliveryException(string message, bool transient, Exception? inner = null)
        : base(message, inner)
    {
        Transient = transient;
    }

    /// <summary>Creates a transient failure.</summary>
    public AlertDeliveryException()
        : this("alert delivery failed", transient: true)
    {
    }

    /// <summary>Creates a transient failure.</summary>
    public AlertDeliveryException(string message)
        : this(message, transient: true)
    {
    }

    /// <summary>Creates a transient failure.</summary>
    public AlertDeliveryException(string message, Exception inner)
        : this(message, transient: true, inner)
    {
    }

    /// <summary>True when the same batch may go through later (the receiver was down, slow or overloaded).</summary>
    public bool Transient { get; }
}
