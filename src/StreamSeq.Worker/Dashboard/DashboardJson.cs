using System.Buffers;
using System.Text;
using System.Text.Json;
using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Dashboard;

/// <summary>Small helpers for the dashboard's JSON: non-finite numbers become null (JSON has no NaN).</summary>
internal static class DashboardJson
{
    public static void Number(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    public static void Number(Utf8JsonWriter json, string name, double value)
    {
        json.WritePropertyName(name);
        Number(json, value);
    }

    public static void Array(Utf8JsonWriter json, string name, ReadOnlySpan<double> values)
    {
        json.WritePropertyName(name);
        json.WriteStartArray();
        foreach (var v in values)
        {
            Number(json, v);
        }

        json.WriteEndArray();
    }

    /// <summary>Runs <paramref name="write"/> against a fresh writer and returns the JSON text.</summary>
    public static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions))
        {
            write(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
