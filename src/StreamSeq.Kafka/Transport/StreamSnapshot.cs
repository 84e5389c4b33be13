using System.Text.Json.Nodes;

namespace StreamSeq.Kafka.Transport;

/// <summary>A consistent view of one stream's state, answered by the processing loop between records.</summary>
/// <param name="Stream">Stream id.</param>
/// <param name="Model">Model name.</param>
/// <param name="Partition">Input partition that owns the stream.</param>
/// <param name="Steps">Observations processed.</param>
/// <param name="LastTime">Model time of the last observation.</param>
/// <param name="Mean">Filtered state mean.</param>
/// <param name="Covariance">Filtered state covariance (row-major).</param>
/// <param name="Alerts">Alerts emitted.</param>
/// <param name="Parameters">The noise the stream has learned (models with <c>adapt</c>; see
/// <see cref="Processing.State.LearnedParameters"/>), or null.</param>
/// <param name="Next">What the stream expects to read next, in the readings' own units; null before its first
/// observation.</param>
public sealed record StreamSnapshot(string Stream, string Model, int Partition, long Steps, double LastTime, double[] Mean, double[] Covariance, long Alerts, JsonObject? Parameters = null, StreamPrediction? Next = null);
