// pond serve's web UI: the tree, a series chart (bucketed min/max/mean from /api/buckets,
// re-fetched for the visible range on zoom), tables with paging and sorting (SQL through
// /api/query), describe and versions, and the transaction log (/api/log, a page at a time).
// No network but this server; uPlot is embedded.
'use strict';
const $ = (s) => document.querySelector(s);
const enc = encodeURIComponent;
const state = { lastBuckets: null, fetches: 0 };
window.pondState = state;

async function api(route, params) {
  const q = Object.entries(params).flatMap(([k, v]) =>
    Array.isArray(v) ? v.map((x) => `${k}=${enc(x)}`) : [`${k}=${enc(v)}`]).join('&');
  const r = await fetch(`/api/${route}?${q}`);
  const t = await r.text();
  if (!r.ok) { let m = t; try { m = JSON.parse(t).error; } catch (e) { /* text */ } throw new Error(m); }
  return t;
}
const json = async (route, params) => JSON.parse(await api(route, params));
const ndjson = (t) => t.split('\n').filter((l) => l).map((l) => JSON.parse(l));
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => (k === 'text' ? (e.textContent = v) : e.setAttribute(k, v)));
  kids.forEach((k) => e.append(k));
  return e;
};
function size(n) { const u = ['B', 'KiB', 'MiB', 'GiB']; let i = 0; while (n >= 1024 && i < 3) { n /= 1024; i++; } return i ? n.toFixed(1) + ' ' + u[i] : n + ' B'; }

async function showTree(path) {
  const tree = $('#tree');
  tree.textContent = '';
  const d = await json('list', { path });
  if (path !== '/') {
    const up = path.replace(/\/[^/]*$/, '') || '/';
    tree.append(el('a', { href: `#/dir${up}`, text: '..' }));
  }
  for (const e of d.entries) {
    const kind = e.type === 'directory' ? 'dir' : e.type === 'file:series' ? 'series' : e.type === 'file:table' ? 'table' : 'file';
    const range = e.min_event_time ? ` ${e.min_event_time.slice(0, 10)}..${e.max_event_time.slice(0, 10)}` : '';
    const a = el('a', { href: `#/${kind}${e.path}`, 'data-path': e.path }, e.name + (kind === 'dir' ? '/' : ''),
      el('div', { class: 'meta', text: `${e.type} ${size(e.size)} v${e.version} (${e.versions} versions)${range}` }));
    tree.append(a);
  }
}

function describeBlock(d) {
  const rows = (d.versions || []).map((v) => el('tr', {}, el('td', { text: 'v' + v.version }), el('td', { text: v.time }),
    el('td', { text: size(v.size) }), el('td', { text: 'txn ' + v.txn }), el('td', { text: v.rows == null ? '' : v.rows }),
    el('td', { text: v.min_event_time ? `${v.min_event_time} .. ${v.max_event_time}` : '' })));
  const schema = (d.schema || []).map((c) => `${c.name}: ${c.type}`).join(', ');
  return el('div', { id: 'describe' }, el('h3', { text: 'Describe' }),
    el('p', { text: `${d.type}, ${d.rows ?? ''} rows; schema: ${schema}` }),
    el('table', { id: 'versions' }, el('tr', {}, ...['version', 'written', 'size', 'txn', 'rows', 'event time'].map((h) => el('th', { text: h }))), ...rows));
}

let chart = null;
async function drawSeries(path, overlay, from, to) {
  const n = Math.max(50, Math.min(2000, Math.floor(($('#view').clientWidth || 900) - 40)));
  const p = { path, n };
  if (from != null) { p.from = `${Math.floor(from * 1e6)}us`; p.to = `${Math.ceil(to * 1e6)}us`; }
  const sets = [await json('buckets', p)];
  if (overlay) sets.push(await json('buckets', { ...p, path: overlay, from: `${sets[0].from_us}us`, to: `${sets[0].to_us}us` }));
  state.fetches++;
  state.lastBuckets = { path, from_us: sets[0].from_us, to_us: sets[0].to_us, n: sets[0].n };
  const xs = sets[0].time.map((t) => t / 1e6);
  const data = [xs], series = [{}];
  const colors = ['#1d4ed8', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2'];
  let c = 0;
  for (const s of sets) {
    for (const col of s.columns) {
      const color = colors[c++ % colors.length];
      const label = (sets.length > 1 ? s.path + ' ' : '') + col.name;
      data.push(col.mean, col.min, col.max);
      // spanGaps: a bucket narrower than the readings' spacing is empty, not a gap in the data
      series.push({ label: label + ' mean', stroke: color, width: 1.5, spanGaps: true },
        { label: label + ' min', stroke: color + '55', width: 1, spanGaps: true }, { label: label + ' max', stroke: color + '55', width: 1, spanGaps: true });
    }
  }
  const box = $('#chart');
  if (typeof uPlot === 'undefined') { box.textContent = 'chart library missing'; return; }
  if (chart) chart.destroy();
  chart = new uPlot({
    width: Math.max(400, box.clientWidth || 900), height: 360, series, scales: { x: { time: true } },
    hooks: { setSelect: [(u) => {
      if (u.select.width < 2) return;
      const a = u.posToVal(u.select.left, 'x'), b = u.posToVal(u.select.left + u.select.width, 'x');
      drawSeries(path, overlay, a, b).catch(showError);
    }] },
  }, data, box);
  $('#range').textContent = `${sets[0].from} .. ${sets[0].to}, ${sets[0].n} buckets, ${sets[0].rows} rows read`;
}

async function showSeries(path) {
  const v = $('#view');
  v.textContent = '';
  const overlay = el('input', { id: 'overlay', placeholder: 'overlay another series: /path' });
  const reset = el('button', { id: 'reset', text: 'whole range' });
  v.append(el('h2', { text: path }), el('div', { class: 'controls' }, overlay, reset,
    el('button', { id: 'astable', text: 'as table' })), el('div', { id: 'range' }), el('div', { id: 'chart' }));
  $('#astable').onclick = () => { location.hash = '#/table' + path; };
  reset.onclick = () => drawSeries(path, overlay.value || null).catch(showError);
  overlay.onchange = reset.onclick;
  await drawSeries(path, null);
  v.append(describeBlock(await json('describe', { path })));
}

async function showTable(path) {
  const v = $('#view');
  v.textContent = '';
  const d = await json('describe', { path });
  const cols = (d.schema || []).map((c) => c.name);
  let page = 0, order = null, desc = false;
  const per = 50;
  const box = el('div', { id: 'tablebox' });
  const info = el('span', { id: 'pageinfo' });
  const prev = el('button', { id: 'prev', text: '< prev' }), next = el('button', { id: 'next', text: 'next >' });
  v.append(el('h2', { text: path }), el('div', { class: 'controls' }, prev, info, next), box, describeBlock(d));
  const q = (s) => `"${s.replace(/"/g, '""')}"`;
  async function load() {
    const sql = `SELECT * FROM t${order ? ` ORDER BY ${q(order)}${desc ? ' DESC' : ''}` : ''} LIMIT ${per} OFFSET ${page * per}`;
    const rows = ndjson(await api('query', { sql, src: `t=${path}` }));
    const head = el('tr', {}, ...cols.map((c) => {
      const th = el('th', { text: c + (order === c ? (desc ? ' ▼' : ' ▲') : '') });
      th.onclick = () => { desc = order === c ? !desc : false; order = c; page = 0; load().catch(showError); };
      return th;
    }));
    box.textContent = '';
    box.append(el('table', { id: 'rows' }, head, ...rows.map((r) => el('tr', {}, ...cols.map((c) => el('td', { text: r[c] == null ? '' : String(r[c]) }))))));
    info.textContent = ` rows ${page * per + 1}..${page * per + rows.length} of ${d.rows} `;
    prev.disabled = page === 0;
    next.disabled = (page + 1) * per >= d.rows;
  }
  prev.onclick = () => { page--; load().catch(showError); };
  next.onclick = () => { page++; load().catch(showError); };
  await load();
}

async function showFile(path) {
  const v = $('#view');
  v.textContent = '';
  const d = await api('describe', { path, format: 'text' });
  v.append(el('h2', { text: path }), el('pre', { text: d }));
}

async function showLog() {
  const v = $('#view');
  v.textContent = '';
  const body = el('tbody', {});
  const older = el('button', { id: 'older', text: 'older transactions' });
  const info = el('span', { id: 'loginfo' });
  v.append(el('h2', { text: 'Transaction log' }),
    el('table', { id: 'log' }, el('thead', {}, el('tr', {}, ...['txn', 'committed (UTC)', 'command'].map((h) => el('th', { text: h })))), body),
    el('div', { class: 'controls' }, older, info));
  let before = null, shown = 0;
  async function more() {
    const d = await json('log', before == null ? { limit: 50 } : { limit: 50, before });
    for (const t of d.entries)
      body.append(el('tr', {}, el('td', { text: String(t.txn) }), el('td', { text: t.time || '' }),
        el('td', { text: t.command || (t.time ? '' : '(no commit information)') })));
    shown += d.entries.length;
    before = d.next_before;
    older.disabled = before == null;
    info.textContent = ` ${shown} transactions shown, newest ${d.txn}`;
  }
  older.onclick = () => more().catch(showError);
  await more();
}

function showError(e) { $('#view').prepend(el('p', { class: 'err', text: String(e.message || e) })); }

async function route() {
  const h = decodeURIComponent(location.hash.slice(1) || '/dir/');
  const m = h.match(/^\/(dir|series|table|file|log)(\/.*)?$/) || ['', 'dir', '/'];
  const kind = m[1], path = m[2] || '/';
  $('#where').textContent = kind === 'log' ? 'transaction log' : path;
  try {
    if (kind === 'dir') { await showTree(path); $('#view').textContent = ''; return; }
    if (kind === 'log') { await showTree('/'); await showLog(); return; }
    const parent = path.replace(/\/[^/]*$/, '') || '/';
    await showTree(parent);
    if (kind === 'series') await showSeries(path);
    else if (kind === 'table') await showTable(path);
    else await showFile(path);
  } catch (e) { showError(e); }
}
if (typeof uPlot === 'undefined') $('#missing').hidden = false;
window.addEventListener('hashchange', route);
route();
