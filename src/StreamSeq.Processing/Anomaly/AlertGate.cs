namespace StreamSeq.Processing.Anomaly;

/// <summary>
/// The alert gate's transition function: given the stream's gate state, the event time and the rules' verdicts,
/// decide whether to emit an alert. A pure function of its inputs, so replay and restore reproduce every alert.
/// </summary>
public static class AlertGate
{
    /// <summary>Advances the gate; returns true when an alert should be emitted now.</summary>
    /// <param name="state">The stream's gate state.</param>
    /// <param name="options">Gate settings.</param>
    /// <param name="time">Event time in model units.</param>
    /// <param name="beyond">True when some rule is beyond its threshold.</param>
    /// <param name="cleared">True when every rule is inside its clear threshold.</param>
    public static bool Step(ref AlertGateState state, AlertGateOptions options, double time, bool beyond, bool cleared)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (state.Active)
        {
            if (cleared && !beyond)
            {
                state.Active = false;
            }
            else
            {
                if (beyond)
                {
                    state.Suppressed++;
                }

                return false;
            }
        }

        if (!beyond)
        {
            return false;
        }

        if (!double.IsNaN(state.LastAlertTime) && time - state.LastAlertTime < options.MinInterval)
        {
            state.Suppressed++;
            return false;
        }

        if (options.MaxAlertsPerWindow > 0)
        {
            if (double.IsNaN(state.WindowStart) || time - state.WindowStart >= options.RateWindow)
            {
                state.WindowStart = time;
                state.WindowCount = 0;
            }

            if (state.WindowCount >= options.MaxAlertsPerWindow)
            {
                state.Suppressed++;
                return false;
            }

            state.WindowCount++;
        }

        state.LastAlertTime = time;
        state.TotalAlerts++;
        state.Active = options.Hysteresis;
        return true;
    }
}
