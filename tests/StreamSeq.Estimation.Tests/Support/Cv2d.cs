using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>The 4-state, 2-observation constant-velocity scenario of oracles/lgssm.</summary>
internal static class Cv2d
{
    public static readonly double[] F = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1];
    public static readonly double[] Q = [1.0 / 6, 0, 0.25, 0, 0, 1.0 / 6, 0, 0.25, 0.25, 0, 0.5, 0, 0, 0.25, 0, 0.5];
    public static readonly double[] H = [1, 0, 0, 0, 0, 1, 0, 0];
    public static readonly double[] R = [4.0, 1.0, 1.0, 2.25];
    public static readonly double[] M0 = [0, 0, 1, 0.5];
    public static readonly double[] P0 = [10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

    /// <summary>The oracle puts the prior at t = 0; our specs put it at the first observation: a1 = F m0, P1 = F P0 F' + Q.</summary>
    public static (double[] A1, double[] P1) PriorAtFirstObservation()
    {
        var a1 = new double[4];
        var p1 = new double[16];
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                a1[i] += F[(i * 4) + j] * M0[j];
                var s = 0.0;
                for (var k = 0; k < 4; k++)
                {
                    for (var l = 0; l < 4; l++)
                    {
                        s += F[(i * 4) + k] * P0[(k * 4) + l] * F[(j * 4) + l];
                    }
                }

                p1[(i * 4) + j] = s + Q[(i * 4) + j];
            }
        }

        return (a1, p1);
    }

    public static LinearGaussianModel Model(ILinearDynamics? dynamics = null)
    {
        var (a1, p1) = PriorAtFirstObservation();
        return new LinearGaussianModel(dynamics ?? new MatrixDynamics(4, F, Q), 2, H, R, a1, p1);
    }

    public static ObservationSeries Data()
    {
        var csv = OracleCsv.Load("lgssm", "cv2d_data.csv");
        var values = new double[csv.RowCount * 2];
        for (var t = 0; t < csv.RowCount; t++)
        {
            values[2 * t] = csv["y_1"][t];
            values[(2 * t) + 1] = csv["y_2"][t];
        }

        return new ObservationSeries(2, values);
    }
}
