namespace StreamSeq.Estimation.Detection;

/// <summary>Offsets of every part of an <see cref="AnomalyDetector"/>'s per-stream state buffer.</summary>
internal sealed class DetectorLayout
{
    // Header words.
    internal const int Rows = 0;
    internal const int WarmCount = 1;
    internal const int Ready = 2;
    internal const int NominalGap = 3;
    internal const int Quantum = 4;
    internal const int PreviousValue = 5;
    internal const int ReferenceLogScale = 6;
    internal const int GapCount = 7;
    internal const int LevelMean = 8;
    internal const int LevelVariance = 9;
    internal const int LevelScale = 10;
    internal const int LevelDof = 11;
    internal const int ReferenceLevel = 12;
    internal const int HeaderLength = 13;

    // Seasonal expert header words (relative to the expert's offset).
    internal const int SeasonBins = 0;
    internal const int SeasonBinWidth = 1;
    internal const int SeasonPhase = 2;
    internal const int SeasonClock = 3;
    internal const int SeasonScale = 4;
    internal const int SeasonDof = 5;
    internal const int SeasonHeaderLength = 6;

    // Marginal-density header words.
    internal const int MarginalLow = 0;
    internal const int MarginalWidth = 1;
    internal const int MarginalCount = 2;
    internal const int MarginalHeaderLength = 3;

    // Calibrator header words.
    internal const int CalibrationSeen = 0;
    internal const int CalibrationMaximumSeen = 1;
    internal const int CalibrationHeaderLength = 2;

    internal DetectorLayout(AnomalyDetectorOptions options, int changepointStateLength)
    {
        ChangepointStateLength = changepointStateLength;
        HasChangepoint = changepointStateLength > 0;
        Warmup = options.WarmupLength;
        Seasons = options.SeasonalPeriods.Count;
        MaxBins = options.MaximumSeasonalBins;
        MarginalBins = options.MarginalBins;
        CalibrationBins = (int)Math.Ceiling((options.CalibrationMaximum - options.CalibrationMinimum) / options.CalibrationResolution);
        CalibrationTrees = options.TailModel == "exceedance" ? 2 : 1;
        EvidenceWindow = options.EvidenceWindow;
        SuppressionWindow = options.SuppressionWindow;
        Experts = Seasons + 2 + (HasChangepoint ? 1 : 0);

        WarmValues = HeaderLength;
        WarmGaps = WarmValues + Warmup;
        Weights = WarmGaps + Warmup;
        SeasonStart = Weights + Experts;
        SeasonStride = SeasonHeaderLength + (3 * MaxBins);
        Marginal = SeasonStart + (Seasons * SeasonStride);
        Calibration = Marginal + MarginalHeaderLength + MarginalBins;
        Suppression = Calibration + CalibrationHeaderLength + (CalibrationTrees * CalibrationBins);
        Evidence = Suppression + 1 + SuppressionWindow;
        Changepoint = Evidence + (EvidenceWindow > 0 ? EvidenceChannel.HeaderLength + EvidenceWindow : 0);
        Length = Changepoint + ChangepointStateLength;
    }

    /// <summary>True when the changepoint expert is configured.</summary>
    internal bool HasChangepoint { get; }

    /// <summary>Doubles of the changepoint expert's state.</summary>
    internal int ChangepointStateLength { get; }

    /// <summary>The changepoint expert's state (the BOCPD estimator's own layout).</summary>
    internal int Changepoint { get; }

    /// <summary>Index of the changepoint expert among the experts (before the marginal), or -1.</summary>
    internal int ChangepointExpert => HasChangepoint ? Experts - 2 : -1;

    /// <summary>W.</summary>
    internal int Warmup { get; }

    /// <summary>Number of configured seasonal periods.</summary>
    internal int Seasons { get; }

    /// <summary>Bins reserved per seasonal expert.</summary>
    internal int MaxBins { get; }

    /// <summary>Histogram bins of the marginal density.</summary>
    internal int MarginalBins { get; }

    /// <summary>Histogram bins of the surprisal calibrator.</summary>
    internal int CalibrationBins { get; }

    /// <summary>Fenwick trees of the calibrator: counts, and bin positions with the exceedance tail.</summary>
    internal int CalibrationTrees { get; }

    /// <summary>W of the evidence channel (0: none).</summary>
    internal int EvidenceWindow { get; }

    /// <summary>Evidence channel header and ring (when W &gt; 0).</summary>
    internal int Evidence { get; }

    /// <summary>Doubles of the calibrator's slice.</summary>
    internal int CalibrationLength => CalibrationHeaderLength + (CalibrationTrees * CalibrationBins);

    /// <summary>Rows in the suppression ring.</summary>
    internal int SuppressionWindow { get; }

    /// <summary>Experts: level, one per seasonal period, marginal density.</summary>
    internal int Experts { get; }

    /// <summary>Warm-up values.</summary>
    internal int WarmValues { get; }

    /// <summary>Warm-up gaps.</summary>
    internal int WarmGaps { get; }

    /// <summary>Fixed-share weights of the experts (level, seasons, marginal).</summary>
    internal int Weights { get; }

    /// <summary>First seasonal expert.</summary>
    internal int SeasonStart { get; }

    /// <summary>Doubles per seasonal expert: header, then bin values, bin variances and last-visit clocks.</summary>
    internal int SeasonStride { get; }

    /// <summary>Marginal-density header and counts.</summary>
    internal int Marginal { get; }

    /// <summary>Calibrator header and counts.</summary>
    internal int Calibration { get; }

    /// <summary>Suppression ring: the write position, then the last L raw scores.</summary>
    internal int Suppression { get; }

    /// <summary>Total doubles.</summary>
    internal int Length { get; }

    /// <summary>Offset of seasonal expert k.</summary>
    internal int Season(int k) => SeasonStart + (k * SeasonStride);
}
