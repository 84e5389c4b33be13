using StreamSeq.Processing.Models;
using StreamSeq.Processing.State;

namespace StreamSeq.Worker.Configuration;

/// <summary>Loads <c>StreamSeq:Processing:ParametersFile</c>, the learned values new streams start from.</summary>
public static class StartingParameters
{
    /// <summary>The setting's key.</summary>
    public const string Key = ProcessingSettings.Section + ":" + nameof(ProcessingSettings.ParametersFile);

    /// <summary>The table the setting names (null when unset), checked against the configured models; throws
    /// <see cref="InvalidOperationException"/> naming the setting, the file and the line.</summary>
    public static ParameterTable? Load(ProcessingSettings processing, ModelRouter models)
    {
        ArgumentNullException.ThrowIfNull(processing);
        ArgumentNullException.ThrowIfNull(models);
        if (string.IsNullOrWhiteSpace(processing.ParametersFile))
        {
            return null;
        }

        try
        {
            return ParameterTable.Load(processing.ParametersFile, models);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{Key}: {e.Message}", e);
        }
    }
}
