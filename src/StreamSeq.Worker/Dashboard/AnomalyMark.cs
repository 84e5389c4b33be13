namespace StreamSeq.Worker.Dashboard;

/// <summary>An anomaly alert as the dashboard shows it.</summary>
internal sealed record AnomalyMark(string Stream, double Time, double[] Values, double[] Expected, string Rule, double Score, double Threshold);
