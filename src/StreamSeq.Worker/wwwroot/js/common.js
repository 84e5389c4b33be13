// Shared helpers of the StreamSeq dashboard pages (no dependencies, no network access beyond this worker).
'use strict';

const StreamSeq = (() => {
  function pad(n, w = 2) { return String(n).padStart(w, '0'); }

  // Epoch milliseconds to "YYYY-MM-DD HH:MM:SS" in UTC.
  function time(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '–';
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }

  function number(v, digits = 4) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
    return Number(v.toPrecision(digits)).toString();
  }

  function vector(values, digits = 4) {
    if (!values || values.length === 0) return '–';
    return values.map(v => number(v, digits)).join(', ');
  }

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  // Filter health in words: the mean NIS of a consistent filter is about the number of observed components m;
  // over n steps its 99% range is roughly m ± 2.58·sqrt(2m/n). Particle filters add ESS, changepoint models the
  // MAP run length.
  function health(summary) {
    const parts = [];
    let ok = true;
    if (summary.nis !== null && summary.nis !== undefined) {
      const m = Math.max(1, summary.components || 1);
      const n = Math.max(1, summary.nisWindow || 1);
      const half = 2.58 * Math.sqrt(2 * m / n);
      ok = summary.nis >= Math.max(0, m - half) && summary.nis <= m + half;
      parts.push(`NIS ${number(summary.nis, 3)} (≈${m})`);
    }
    const x = summary.extras || {};
    if (x.ess !== undefined) parts.push(`ESS ${number(x.ess, 4)}`);
    if (x.mapRunLength !== undefined) parts.push(`run ${number(x.mapRunLength, 5)}`);
    if (x.changepointProbability !== undefined) parts.push(`P(cp) ${number(x.changepointProbability, 2)}`);
    const h = summary.health || {};
    for (const flag of ['repaired', 'reinitialized']) {
      if (h[flag]) { parts.push(`${flag} ×${h[flag]}`); ok = false; }
    }
    return { text: parts.length ? parts.join(' · ') : '–', ok };
  }

  return { time, number, vector, el, health };
})();
