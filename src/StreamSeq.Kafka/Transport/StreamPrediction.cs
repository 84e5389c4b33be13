using System.Text.Json.Nodes;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// A stream's one-step-ahead prediction of its next reading: the model's own forecast at horizon 1, one
/// <c>forecastStep</c> after its last observation (the <c>observation</c> moments of the horizon-1 <c>forecast</c>
/// record the stream would emit with a horizon).
/// </summary>
/// <param name="Time">The predicted reading's time as output records write it (an ISO-8601 string, or a number for
/// numeric times), or null when no record can carry it (after 9999-12-31T23:59:59.999Z).</param>
/// <param name="Mean">Predicted reading E[y_{t+1} | y_{1:t}], one number per observed value.</param>
/// <param name="Cov">Its covariance Cov[y_{t+1} | y_{1:t}] as rows (the diagonal holds each value's predictive
/// variance, observation noise included).</param>
public sealed record StreamPrediction(JsonNode? Time, double[] Mean, double[][] Cov);
