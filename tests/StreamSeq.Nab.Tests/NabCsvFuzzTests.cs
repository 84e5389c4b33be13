using CsCheck;
using StreamSeq.Testing;

namespace StreamSeq.Nab.Tests;

/// <summary>
/// Near-valid NAB data and result files (<see cref="HostileMutations"/>) through the scorer's CSV reader: the columns
/// are read and parsed, or reading stops with <see cref="InvalidDataException"/> naming the file; no other exception
/// escapes. The iteration count keeps the test to a few seconds; set <c>CsCheck_Time</c> for a longer campaign.
/// </summary>
public sealed class NabCsvFuzzTests
{
    [Fact]
    public void ReadColumns_NearValidFiles_ReadOrFailNamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"streamseq-nab-fuzz-{Guid.NewGuid():N}.csv");
        try
        {
            HostileMutations.Of(
                "timestamp,value\n2014-04-01 00:00:00,20.5\n2014-04-01 00:05:00,-0\n2014-04-01 00:10:00,1e3\n",
                "timestamp,value,anomaly_score,label\r\n2014-04-01 00:00:00,1,0.5,0\r\n\"2014-04-01 00:05:00\",\"2\",0.25,1\r\n",
                "\"timestamp\",\"value\"\n2014-04-01 00:00:00.000,3\n\n2014-04-01 00:05:00,4\n").Sample(
                bytes =>
                {
                    File.WriteAllBytes(path, bytes);
                    try
                    {
                        var columns = NabCsv.ReadColumns(path, "timestamp", "value");
                        Assert.Equal(columns[0].Length, columns[1].Length);
                        var times = NabCsv.ParseTimestamps(path, columns[0]);
                        var values = NabCsv.ParseDoubles(path, "value", columns[1]);
                        Assert.All(values, v => Assert.True(double.IsFinite(v)));
                        Assert.Equal(times.Length, values.Length);
                    }
                    catch (InvalidDataException e)
                    {
                        Assert.Contains(path, e.Message, StringComparison.Ordinal);
                    }
                },
                iter: 1000,
                threads: 1);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
