using System.ComponentModel.DataAnnotations;
using StreamSeq.Processing.Processor;

namespace StreamSeq.Worker.Configuration;

/// <summary>Per-model overrides of the processing settings (section <c>StreamSeq:ModelSettings:&lt;model name&gt;</c>).</summary>
public sealed class ModelSettings
{
    /// <summary>Fixed-lag smoothing lag for this model.</summary>
    [Range(0, ProcessorOptions.MaxLag)]
    public int? Lag { get; set; }

    /// <summary>Forecast horizons for this model.</summary>
    [Range(0, ProcessorOptions.MaxHorizon)]
    public int? Horizon { get; set; }
}
