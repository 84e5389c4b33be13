// The stream list: one server-sent snapshot a second (the server filters, sorts and limits).
'use strict';

(() => {
  const { time, number, vector, el, health } = StreamSeq;
  const body = document.querySelector('#streams tbody');
  const status = document.getElementById('status');
  const filter = document.getElementById('filter');
  const sort = document.getElementById('sort');
  const shown = document.getElementById('shown');
  const empty = document.getElementById('empty');
  const recent = document.getElementById('recent');
  const params = new URLSearchParams(location.search);
  filter.value = params.get('filter') || '';
  sort.value = params.get('sort') || 'id';
  let source = null;
  let lastSnapshot = 0;

  function streamLink(id) {
    const a = el('a', id);
    a.href = `stream.html?id=${encodeURIComponent(id)}`;
    return a;
  }

  function render(snapshot) {
    lastSnapshot = Date.now();
    const w = snapshot.worker;
    const d = snapshot.dashboard;
    status.textContent = `${w.ready ? 'ready' : 'starting'} · ${w.processed.toLocaleString('en')} records · ${w.alerts} alerts · lag ${w.lag}`
      + ` · dashboard: ${d.streams} streams, ${d.ingestDropped} records skipped`;
    shown.textContent = `${snapshot.streams.length} of ${snapshot.matched} matching (${snapshot.total} tracked)`;
    empty.hidden = snapshot.total > 0;
    const rows = document.createDocumentFragment();
    for (const s of snapshot.streams) {
      const tr = el('tr');
      tr.dataset.stream = s.id;
      if (s.anomalies > 0) tr.className = 'has-anomalies';
      const first = el('td');
      first.appendChild(streamLink(s.id));
      tr.appendChild(first);
      tr.appendChild(el('td', s.model || '–'));
      tr.appendChild(el('td', vector(s.y), 'num last-value'));
      tr.appendChild(el('td', time(s.t)));
      tr.appendChild(el('td', String(s.anomalies), 'num anomalies'));
      const h = health(s);
      tr.appendChild(el('td', h.text, h.ok ? 'health-ok' : 'health-warn'));
      tr.appendChild(el('td', String(s.steps), 'num'));
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
    const items = document.createDocumentFragment();
    for (const a of snapshot.anomalies) {
      const li = el('li');
      li.appendChild(streamLink(a.stream));
      li.appendChild(document.createTextNode(` ${time(a.t)} · ${a.rule} `));
      li.appendChild(el('span', `score ${number(a.score, 3)}`, 'score'));
      li.appendChild(document.createTextNode(` · observed ${vector(a.y)}, expected ${vector(a.expected)}`));
      items.appendChild(li);
    }
    recent.replaceChildren(items);
  }

  function connect() {
    if (source) source.close();
    const q = new URLSearchParams();
    if (filter.value) q.set('filter', filter.value);
    if (sort.value !== 'id') q.set('sort', sort.value);
    history.replaceState(null, '', q.toString() ? `?${q}` : location.pathname);
    source = new EventSource(`api/dashboard/events?${q}`);
    source.onmessage = e => render(JSON.parse(e.data));
    source.onerror = () => { status.textContent = 'disconnected: retrying…'; };
  }

  let timer = null;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(connect, 250); });
  sort.addEventListener('change', connect);
  setInterval(() => { if (lastSnapshot && Date.now() - lastSnapshot > 5000) status.textContent = 'no updates for a while: retrying…'; }, 2000);
  connect();
})();
