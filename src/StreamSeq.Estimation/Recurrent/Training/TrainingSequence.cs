namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>One training sequence in normalised units: values (NaN = missing) and controls (missing = 0), with the
/// length of its training part (the rest is held out).</summary>
internal sealed class TrainingSequence
{
    public TrainingSequence(double[] values, double[] controls, int length, int trainingLength)
    {
        Values = values;
        Controls = controls;
        Length = length;
        TrainingLength = trainingLength;
    }

    /// <summary>T×m normalised observations.</summary>
    public double[] Values { get; }

    /// <summary>T×c normalised controls (empty without controls).</summary>
    public double[] Controls { get; }

    public int Length { get; }

    public int TrainingLength { get; }
}
