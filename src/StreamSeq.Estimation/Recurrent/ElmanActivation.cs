namespace StreamSeq.Estimation.Recurrent;

/// <summary>The nonlinearity of an <see cref="ElmanNetwork{T}"/>.</summary>
public enum ElmanActivation
{
    /// <summary>Hyperbolic tangent (PyTorch's default).</summary>
    Tanh,

    /// <summary>Rectified linear unit, max(0, x).</summary>
    Relu,
}
