using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Processing.State;

/// <summary>A stream's learned noise parameters as JSON, for queries of a stream's state (<c>/api/streams/{id}</c>).</summary>
public static class LearnedParameters
{
    /// <summary>
    /// <c>{"learnedFrom": n, "values": {"observationNoise": {"value": [[…]], "sd": [[…]]}, …}}</c> in the shapes of the
    /// filtered records' <c>parameters</c>, or null when the stream's model learns nothing.
    /// </summary>
    public static JsonObject? ToJson(StreamState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var estimator = state.Model.Estimator;
        var info = estimator.Info;
        if (info.Parameters.Count == 0 || estimator is not IParameterLearner learner)
        {
            return null;
        }

        var values = new double[info.ParametersLength];
        var deviations = new double[info.ParametersLength];
        learner.ReadParameters(state.Buffer, values, deviations);
        var byName = new JsonObject();
        var offset = 0;
        foreach (var parameter in info.Parameters)
        {
            byName[parameter.Name] = new JsonObject
            {
                ["value"] = Shape(parameter, values.AsSpan(offset, parameter.Length)),
                ["sd"] = Shape(parameter, deviations.AsSpan(offset, parameter.Length)),
            };
            offset += parameter.Length;
        }

        return new JsonObject
        {
            ["learnedFrom"] = learner.ReadingsLearned(state.Buffer),
            ["values"] = byName,
        };
    }

    private static JsonNode? Shape(LearnedParameter parameter, ReadOnlySpan<double> values)
    {
        if (!parameter.IsMatrix)
        {
            return Number(values[0]);
        }

        var rows = new JsonArray();
        for (var i = 0; i < parameter.Rows; i++)
        {
            var row = new JsonArray();
            for (var j = 0; j < parameter.Columns; j++)
            {
                row.Add(Number(values[(i * parameter.Columns) + j]));
            }

            rows.Add(row);
        }

        return rows;
    }

    private static JsonValue? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
