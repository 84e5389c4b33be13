using System.ComponentModel.DataAnnotations;
using StreamSeq.Kafka.Stores;
using StreamSeq.Processing.Processor;

namespace StreamSeq.Worker.Configuration;

/// <summary>Processor settings (section <c>StreamSeq:Processing</c>).</summary>
public sealed class ProcessingSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "StreamSeq:Processing";

    /// <summary>Fixed-lag smoothing lag for every model (0: no smoothed records). Per-model: <c>StreamSeq:ModelSettings</c>.</summary>
    [Range(0, ProcessorOptions.MaxLag)]
    public int Lag { get; set; }

    /// <summary>Forecast horizons after each observation (0: none).</summary>
    [Range(0, ProcessorOptions.MaxHorizon)]
    public int Horizon { get; set; }

    /// <summary>How late a record may arrive and still be re-ordered into its stream.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan AllowedLateness { get; set; }

    /// <summary>
    /// How far a record's time may be ahead of the later of its Kafka timestamp and its stream's newest time before it
    /// is dead-lettered as <c>too-far-ahead</c> (0: no bound). Without it one reading stamped far in the future makes
    /// every later reading of its stream too late.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan MaxTimeSkew { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest accepted number of values per record.</summary>
    [Range(1, 1_000_000)]
    public int MaxComponents { get; set; } = 1024;

    /// <summary>Largest accepted record in bytes.</summary>
    [Range(64, 100_000_000)]
    public int MaxRecordBytes { get; set; } = 1 << 20;

    /// <summary>Live streams per partition before idle ones are evicted to their serialised form (0: unlimited; in-memory store only).</summary>
    [Range(0, int.MaxValue)]
    public int MaxLiveStreams { get; set; }

    /// <summary>Where stream states live: <c>memory</c> (the heap, restored from the whole changelog) or <c>rocksdb</c> (on disk, with a local checkpoint).</summary>
    [RegularExpression("^(?i:memory|rocksdb)$", ErrorMessage = "must be memory or rocksdb.")]
    public string StateStore { get; set; } = "memory";

    /// <summary>The disk store's folder (empty: <c>streamseq-state</c> in the temporary folder); on a volume that outlives the process.</summary>
    public string StateDirectory { get; set; } = string.Empty;

    /// <summary>The disk store's cache of live streams in bytes of heap (an estimate), shared by the owned partitions.</summary>
    [Range(16L << 10, 1L << 40)]
    public long CacheBytes { get; set; } = 256L << 20;

    /// <summary>The longest time between two checkpoints of a partition's disk store.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Standby replicas: <c>none</c>, or <c>all</c> (every input partition this instance does not own is kept warm in a
    /// local disk store by tailing its changelog; needs <c>StateStore=rocksdb</c>).
    /// </summary>
    [RegularExpression("^(?i:none|all)$", ErrorMessage = "must be none or all.")]
    public string Standby { get; set; } = "none";

    /// <summary>Problems between settings of this section, one line each.</summary>
    public IEnumerable<string> CrossFieldProblems()
    {
        if (string.Equals(Standby, "all", StringComparison.OrdinalIgnoreCase) && !string.Equals(StateStore, "rocksdb", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{Section}:Standby: all needs {Section}:StateStore=rocksdb (a standby copy is a disk store), got StateStore={StateStore}.";
        }
    }

    /// <summary>
    /// With the disk store: whether its folder can be created and written, tried before anything starts (a file there,
    /// or a folder that cannot be created, used to stop the processing loop only once it had joined the group and was
    /// assigned partitions, as a fatal error with a stack trace and exit code 1, which asks to be restarted).
    /// </summary>
    public IEnumerable<string> StoreDirectoryProblems()
    {
        var options = ToStoreOptions();
        if (options.Kind != StateStoreKind.RocksDb)
        {
            yield break;
        }

        var key = $"{Section}:{nameof(StateDirectory)}";
        var shown = string.IsNullOrWhiteSpace(StateDirectory) ? $"'{options.Directory}' (the default)" : $"'{options.Directory}'";
        string? problem = null;
        if (File.Exists(options.Directory))
        {
            problem = "is a file; the disk store needs a folder.";
        }
        else
        {
            var probe = Path.Combine(options.Directory, $".streamseq-write-check-{Environment.ProcessId}");
            try
            {
                Directory.CreateDirectory(options.Directory);
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot be written: {e.Message}";
            }
        }

        if (problem is not null)
        {
            yield return $"{key}: {shown} {problem}";
        }
    }

    /// <summary>The state store settings for the Kafka loop.</summary>
    public StateStoreOptions ToStoreOptions() => new()
    {
        Kind = string.Equals(StateStore, "rocksdb", StringComparison.OrdinalIgnoreCase) ? StateStoreKind.RocksDb : StateStoreKind.Memory,
        Directory = string.IsNullOrWhiteSpace(StateDirectory) ? StateStoreOptions.Memory.Directory : Path.GetFullPath(StateDirectory),
        CacheBytes = CacheBytes,
        CheckpointInterval = CheckpointInterval,
        Standby = string.Equals(Standby, "all", StringComparison.OrdinalIgnoreCase),
    };

    /// <summary>
    /// A table of learned per-stream noise (<c>streamseq run --parameters-out</c>, JSON Lines): a stream of a model with
    /// <c>adapt</c> that starts from nothing starts from its row instead of the spec's values. A stream restored from
    /// the changelog keeps what it learned. Empty: none. Checked against the models at start.
    /// </summary>
    public string? ParametersFile { get; set; }
}
