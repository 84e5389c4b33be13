namespace StreamSeq.Estimation.Recurrent;

/// <summary>Which part of a network's state a recurrent estimator reports as the state mean.</summary>
public enum RecurrentStateView
{
    /// <summary>The whole state: h (and c for LSTMs) of every layer, in the network's layout.</summary>
    Full,

    /// <summary>Only the top layer's hidden vector h (the network output).</summary>
    Output,
}
