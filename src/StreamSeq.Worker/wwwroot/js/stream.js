// A stream's page: history on load, then live updates over server-sent events, drawn with uPlot.
'use strict';

(() => {
  const { time, number, vector, el, health } = StreamSeq;
  const Z95 = 1.959963984540054;
  const COLORS = { observations: '#7f7f7f', filtered: '#1f77b4', smoothed: '#2ca02c', forecast: '#ff7f0e', anomaly: '#d62728' };
  const id = new URLSearchParams(location.search).get('id');
  const chartBox = document.getElementById('chart');
  const status = document.getElementById('status');
  const componentBox = document.getElementById('component-box');
  const componentSelect = document.getElementById('component');

  const state = {
    meta: null, cap: 720, component: 0,
    observations: [], filtered: [], smoothed: [], forecast: [], forecastMadeAt: null, anomalies: [],
    pending: [], loaded: false, dropped: 0, summary: null,
  };
  let chart = null;
  let chartKey = '';
  let drawQueued = false;

  if (!id) {
    document.getElementById('stream-id').textContent = '(no stream id)';
    status.textContent = 'open this page from the stream list';
    return;
  }

  document.getElementById('stream-id').textContent = id;
  document.title = `StreamSeq · ${id}`;

  // Keeps a series sorted by time without duplicates, and at most `cap` long.
  function insert(list, item) {
    const n = list.length;
    if (n === 0 || item.t > list[n - 1].t) {
      list.push(item);
    } else {
      let i = n - 1;
      while (i >= 0 && list[i].t > item.t) i--;
      if (i >= 0 && list[i].t === item.t) list[i] = item; else list.splice(i + 1, 0, item);
    }
    if (list.length > state.cap) list.splice(0, list.length - state.cap);
  }

  function apply(item) {
    switch (item.k) {
      case 'o': insert(state.observations, { t: item.t, y: item.y }); break;
      case 'f': insert(state.filtered, { t: item.t, m: item.m, s: item.s }); break;
      case 's': insert(state.smoothed, { t: item.t, m: item.m, s: item.s }); break;
      case 'c':
        if (item.at !== state.forecastMadeAt) { state.forecast = []; state.forecastMadeAt = item.at; }
        insert(state.forecast, { t: item.t, m: item.m, s: item.s });
        break;
      case 'a':
        insert(state.anomalies, { t: item.t, y: item.y, expected: item.expected, rule: item.rule, score: item.score, threshold: item.threshold });
        break;
      default: break;
    }
  }

  function loadHistory(h) {
    state.meta = h;
    state.cap = h.history || 720;
    state.observations = h.observations;
    state.filtered = h.filtered;
    state.smoothed = h.smoothed;
    state.forecast = h.forecast;
    state.forecastMadeAt = h.forecastMadeAt;
    state.anomalies = h.anomalies.map(a => ({ t: a.t, y: a.y, expected: a.expected, rule: a.rule, score: a.score, threshold: a.threshold }));
    state.summary = h.summary;
    state.loaded = true;
    for (const item of state.pending) apply(item);
    state.pending = [];
    describe();
    queueDraw();
  }

  function describe() {
    const h = state.meta;
    const parts = [h.model || 'model not known yet'];
    if (h.family) parts.push(h.family);
    if (h.lag) parts.push(`lag ${h.lag}`);
    if (h.horizon) parts.push(`horizon ${h.horizon}`);
    document.getElementById('model').textContent = parts.join(' · ');
    const m = Math.max(1, h.components || 1);
    if (m > 1 && componentSelect.options.length !== m) {
      componentSelect.replaceChildren(...Array.from({ length: m }, (_, i) => { const o = el('option', `y[${i}]`); o.value = String(i); return o; }));
      componentBox.hidden = false;
    }
    document.getElementById('chart-note').textContent = h.projected
      ? 'Filtered and smoothed lines are the state mapped into observation space; bands are 95% intervals of the estimate (forecast bands include observation noise).'
      : 'This model family has no map from its state to readings: the blue line is the one-step prediction with its 95% predictive band, and there is no smoothed line.';
  }

  function fetchHistory() {
    fetch(`api/dashboard/stream?id=${encodeURIComponent(id)}`)
      .then(r => {
        if (r.status === 404) { status.textContent = 'waiting for this stream\u2019s first records…'; setTimeout(fetchHistory, 2000); return null; }
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json();
      })
      .then(h => { if (h) loadHistory(h); })
      .catch(e => { status.textContent = `could not load history (${e.message}): retrying…`; setTimeout(fetchHistory, 2000); });
  }

  function onFrame(frame) {
    if (frame.summary) state.summary = frame.summary;
    if (frame.dropped > state.dropped) {
      // This page fell behind and lost updates: reload the kept history to close the gaps.
      state.dropped = frame.dropped;
      if (state.loaded) { state.loaded = false; state.pending = []; fetchHistory(); }
    }
    for (const item of frame.items) {
      if (state.loaded) apply(item); else state.pending.push(item);
    }
    if (state.pending.length > 20000) state.pending.splice(0, state.pending.length - 20000);
    if (state.loaded && state.meta && !state.meta.model && state.summary && state.summary.model) {
      state.loaded = false; fetchHistory();
    }
    queueDraw();
  }

  function connect() {
    const source = new EventSource(`api/dashboard/stream/events?id=${encodeURIComponent(id)}`);
    source.onopen = () => { status.textContent = 'live'; fetchHistory(); };
    source.onmessage = e => onFrame(JSON.parse(e.data));
    source.onerror = () => {
      status.textContent = 'disconnected: retrying…';
      // The browser retries a dropped connection itself, but not a refused one (503 while too many pages wait).
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    };
  }

  // uPlot tables: [x (seconds), ...columns]; values that are not finite become null (a gap).
  function finite(v) { return v === null || v === undefined || !isFinite(v) ? null : v; }

  function bandTable(list, c, withBand) {
    const xs = [], mean = [], lo = [], hi = [];
    for (const p of list) {
      const m = finite(p.m[c]);
      if (m === null) continue;
      const s = finite(p.s ? p.s[c] : null);
      xs.push(p.t / 1000);
      mean.push(m);
      lo.push(withBand && s !== null ? m - Z95 * s : null);
      hi.push(withBand && s !== null ? m + Z95 * s : null);
    }
    return withBand ? [xs, mean, lo, hi] : [xs, mean];
  }

  function dedupe(table) {
    // uPlot.join needs strictly increasing x per table.
    const xs = table[0];
    const keep = xs.map((x, i) => i === xs.length - 1 || xs[i + 1] !== x);
    return table.map(col => col.filter((_, i) => keep[i]));
  }

  function data() {
    const c = state.component;
    const obs = [[], []];
    for (const p of state.observations) {
      const v = finite(p.y[c]);
      if (v === null) continue;
      obs[0].push(p.t / 1000); obs[1].push(v);
    }
    const filtered = bandTable(state.filtered, c, true);
    const smoothed = bandTable(state.smoothed, c, false);
    let fanSource = state.forecast;
    if (fanSource.length && state.filtered.length) {
      // Start the fan at the filtered estimate it was made from, so it visibly continues the line.
      const origin = state.filtered.find(p => p.t === state.forecastMadeAt);
      if (origin) fanSource = [origin, ...fanSource];
    }
    const forecast = bandTable(fanSource, c, true);
    const anomalies = [[], []];
    for (const a of state.anomalies) {
      const v = finite(a.y && a.y[c]) ?? finite(a.expected && a.expected[c]);
      if (v === null) continue;
      anomalies[0].push(a.t / 1000); anomalies[1].push(v);
    }
    const tables = [obs, filtered, smoothed, forecast, anomalies].map(dedupe);
    // Scale to the data, not to the bands: a vague prior's first steps would flatten everything else.
    const ys = [obs[1], filtered[1], smoothed[1], forecast[1], anomalies[1]].flat();
    let lo = Math.min(...ys), hi = Math.max(...ys);
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    const pad = Math.max((hi - lo) * 0.08, Math.max(Math.abs(hi), 1) * 1e-3);
    const counts = { observations: obs[0].length, filtered: filtered[0].length, smoothed: smoothed[0].length, forecasts: forecast[0].length, anomalies: anomalies[0].length };
    const empty = tables.every(t => t[0].length === 0);
    return { aligned: empty ? [[], [], [], [], [], [], [], [], [], []] : uPlot.join(tables), range: [lo - pad, hi + pad], counts };
  }

  // 24-hour UTC tick labels; the date is added under the first tick and wherever the day changes.
  function timeTicks(u, splits) {
    let lastDay = null;
    return splits.map(s => {
      const d = new Date(s * 1000);
      const day = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
      const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
      const label = day !== lastDay ? `${hm}\n${day}` : hm;
      lastDay = day;
      return label;
    });
  }

  function options(width, range) {
    const lag = state.meta && state.meta.lag;
    const projected = !state.meta || state.meta.projected;
    const hidden = { show: false };
    return {
      width, height: 420,
      tzDate: ts => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true }, y: { range: () => state.range || range } },
      legend: { live: true },
      axes: [{ values: timeTicks, space: 70 }, {}],
      cursor: { points: { show: false } },
      series: [
        { label: 'time (UTC)', value: (u, v) => (v === null || v === undefined ? '–' : time(v * 1000)) },
        { label: 'observations', stroke: COLORS.observations, paths: () => null, points: { show: true, size: 4, width: 1, fill: COLORS.observations, stroke: COLORS.observations } },
        { label: projected ? 'filtered mean' : 'one-step prediction', stroke: COLORS.filtered, width: 1.5, points: hidden },
        { label: 'filtered 95% low', stroke: 'rgba(0,0,0,0)', points: hidden },
        { label: 'filtered 95% high', stroke: 'rgba(0,0,0,0)', points: hidden },
        { label: lag ? `smoothed (lag ${lag})` : 'smoothed', stroke: COLORS.smoothed, width: 1.5, points: hidden },
        { label: 'forecast', stroke: COLORS.forecast, width: 1.5, dash: [6, 4], points: { show: true, size: 5, fill: COLORS.forecast, stroke: COLORS.forecast } },
        { label: 'forecast 95% low', stroke: 'rgba(0,0,0,0)', points: hidden },
        { label: 'forecast 95% high', stroke: 'rgba(0,0,0,0)', points: hidden },
        { label: 'anomalies', stroke: COLORS.anomaly, paths: () => null, points: { show: true, size: 13, width: 2.5, stroke: COLORS.anomaly, fill: 'rgba(214,39,40,0.18)' } },
      ],
      bands: [
        { series: [4, 3], fill: 'rgba(31,119,180,0.18)' },
        { series: [8, 7], fill: 'rgba(255,127,14,0.22)' },
      ],
    };
  }

  function draw() {
    drawQueued = false;
    if (!state.loaded) return;
    const d = data();
    state.range = d.range;
    const key = `${state.component}|${state.meta.lag}|${state.meta.projected}`;
    const width = Math.max(400, chartBox.clientWidth - 16);
    if (!chart || key !== chartKey) {
      if (chart) chart.destroy();
      chart = new uPlot(options(width, d.range), d.aligned, chartBox);
      chartKey = key;
      chart.root.querySelectorAll('.u-legend .u-series').forEach((row, i) => {
        if ([3, 4, 7, 8].includes(i)) row.classList.add('band-bound');
      });
    } else {
      chart.setData(d.aligned);
    }
    for (const [k, v] of Object.entries(d.counts)) chartBox.dataset[k] = String(v);
    window.streamseqChart = { counts: d.counts, chart };
    renderSummary(d.counts);
    renderAnomalies();
  }

  function queueDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(draw);
  }

  function renderSummary(counts) {
    const s = state.summary;
    document.getElementById('point-count').textContent = String(counts.observations);
    document.getElementById('dropped').textContent = String(state.dropped);
    if (!s) return;
    document.getElementById('last-value').textContent = vector(s.y);
    document.getElementById('anomaly-count').textContent = String(s.anomalies);
    const h = health(s);
    const box = document.getElementById('health');
    box.textContent = h.text;
    box.className = `value ${h.ok ? 'health-ok' : 'health-warn'}`;
    renderParameters(s.parameters || []);
  }

  function renderParameters(parameters) {
    document.getElementById('learned').hidden = parameters.length === 0;
    const rows = document.createDocumentFragment();
    for (const p of parameters) {
      const tr = el('tr');
      tr.appendChild(el('td', p.name));
      tr.appendChild(el('td', number(p.value, 4), 'num'));
      tr.appendChild(el('td', p.sd === null || p.sd === undefined ? '–' : number(p.sd, 2), 'num'));
      rows.appendChild(tr);
    }
    document.querySelector('#parameters tbody').replaceChildren(rows);
  }

  function renderAnomalies() {
    const rows = document.createDocumentFragment();
    for (const a of [...state.anomalies].reverse().slice(0, 100)) {
      const tr = el('tr');
      tr.appendChild(el('td', time(a.t)));
      tr.appendChild(el('td', vector(a.y), 'num'));
      tr.appendChild(el('td', vector(a.expected), 'num'));
      tr.appendChild(el('td', a.rule));
      tr.appendChild(el('td', number(a.score, 3), 'num'));
      tr.appendChild(el('td', number(a.threshold, 3), 'num'));
      rows.appendChild(tr);
    }
    document.querySelector('#anomalies tbody').replaceChildren(rows);
  }

  componentSelect.addEventListener('change', () => { state.component = Number(componentSelect.value); queueDraw(); });
  window.addEventListener('resize', () => { if (chart) chart.setSize({ width: Math.max(400, chartBox.clientWidth - 16), height: 420 }); });
  connect();
})();
