namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>One named tensor inside the flat parameter vector.</summary>
/// <param name="Name">PyTorch name, e.g. <c>weight_ih_l0</c>.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Offset">Start in θ.</param>
/// <param name="Length">Number of values.</param>
/// <param name="Bound">Initial values are uniform in ±Bound.</param>
internal sealed record ParameterTensor(string Name, int[] Shape, int Offset, int Length, double Bound);
