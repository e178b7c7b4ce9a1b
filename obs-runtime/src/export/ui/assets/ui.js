// obs live view. Reads /api/* of this endpoint only. Every string from the
// program (names, error messages, captured content) goes into the page as
// text (textContent, setAttribute on data-*), never as markup.
'use strict';

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes. */
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
  }
  return e;
}

function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

// ---- Formatting ----
const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
function fmtUsd(x) {
  if (x === null || x === undefined) return '–';
  if (x === 0) return '$0';
  if (Math.abs(x) < 1) return '$' + x.toPrecision(3);
  return '$' + x.toFixed(2);
}
function fmtSec(s) {
  if (s === null || s === undefined) return '–';
  if (s < 1) return (s * 1000).toPrecision(3) + ' ms';
  if (s < 120) return s.toFixed(2) + ' s';
  return (s / 60).toFixed(1) + ' min';
}
const fmtMs = (ms) => (ms === null || ms === undefined ? '–' : fmtSec(ms / 1000));
const fmtPct = (r) => (r === null || r === undefined ? '–' : (r * 100).toFixed(1) + '%');
function fmtAgo(ms) {
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return Math.round(s) + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}
const fmtTime = (ms) => new Date(ms).toLocaleTimeString();
// Input counts its cached part, output its reasoning part: the total is the two.
const sumTokens = (t) => ((t && t.input) || 0) + ((t && t.output) || 0);
const badge = (status) => h('span', { class: 'badge s-' + status, text: status });
const kindTag = (kind) => h('span', { class: 'kind k-' + kind, text: kind });

// ---- Fetching ----
let lastError = '';
async function api(path) {
  let r;
  try {
    r = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    setStatus('the endpoint does not answer (the program may have stopped)');
    return null;
  }
  if (r.status === 401) {
    setStatus('unauthorized: open /?token=<OBS_PROMETHEUS_TOKEN> once to sign in');
    return null;
  }
  if (r.status === 404) return { notFound: true };
  if (!r.ok) {
    setStatus('the endpoint answered ' + r.status);
    return null;
  }
  setStatus('');
  return r.json();
}
function setStatus(text) {
  lastError = text;
  $('status').textContent = text || 'updated ' + new Date().toLocaleTimeString();
}

// ---- Tables ----
/**
 * A table from rows; each column is [key, title, value(row), format, numeric].
 * Cells carry data-k (the column) and data-v (the raw value), rows data-name.
 */
function table(el, cols, rows, opts) {
  clear(el);
  el.appendChild(h('thead', null, h('tr', null, cols.map((c) => h('th', { class: c[4] ? 'n' : null, text: c[1] })))));
  const body = h('tbody');
  if (!rows.length) body.appendChild(h('tr', null, h('td', { colspan: cols.length, class: 'muted', text: (opts && opts.empty) || 'nothing yet' })));
  for (const r of rows) {
    const tr = h('tr', opts && opts.rowAttrs ? opts.rowAttrs(r) : { 'data-name': r.name });
    for (const [key, , get, fmt, numeric] of cols) {
      const v = get(r);
      const shown = fmt ? fmt(v, r) : v;
      const td = h('td', { class: numeric ? 'n' : null, 'data-k': key, 'data-v': typeof v === 'object' ? null : v });
      td.appendChild(shown instanceof Node ? shown : document.createTextNode(shown === null || shown === undefined ? '–' : String(shown)));
      tr.appendChild(td);
    }
    if (opts && opts.onclick) {
      tr.classList.add('click');
      tr.addEventListener('click', () => opts.onclick(r));
    }
    body.appendChild(tr);
  }
  el.appendChild(body);
}

const tok = (type) => (r) => (r.tokens ? r.tokens[type] : null);
const tokenCols = [
  ['tokens_input', 'input tok', tok('input'), fmtInt, true],
  ['tokens_output', 'output tok', tok('output'), fmtInt, true],
  ['tokens_cache_read', 'cache read', tok('cache_read'), fmtInt, true],
  ['tokens_cache_creation', 'cache write', tok('cache_creation'), fmtInt, true],
  ['tokens_reasoning', 'reasoning', tok('reasoning'), fmtInt, true],
];
const costCols = [
  ['cost_pico', 'cost', (r) => r.cost_pico, (v, r) => fmtUsd(r.cost_usd), true],
  ['cost_last_hour_pico', 'cost, last hour', (r) => r.cost_last_hour_pico, (v, r) => fmtUsd(r.cost_last_hour_usd), true],
];
const callCols = (title) => [
  ['name', title, (r) => r.name],
  ['calls', 'calls', (r) => r.calls, fmtInt, true],
  ['failed', 'failed', (r) => r.failed, fmtInt, true],
  ['error_ratio', 'error ratio', (r) => r.error_ratio, fmtPct, true],
  ['p50_seconds', 'p50', (r) => r.p50_seconds, fmtSec, true],
  ['p95_seconds', 'p95', (r) => r.p95_seconds, fmtSec, true],
];

// ---- Overview ----
function renderOverview(o) {
  const totals = o.totals;
  const cards = [
    ['agent runs', fmtInt(totals.agent_runs), 'agent_runs', totals.agent_runs],
    ['model calls', fmtInt(totals.model_calls), 'model_calls', totals.model_calls],
    ['tool calls', fmtInt(totals.tool_calls), 'tool_calls', totals.tool_calls],
    ['failed calls', fmtInt(totals.failed), 'failed', totals.failed],
    ['tokens', fmtInt(sumTokens(totals.tokens)), 'tokens', sumTokens(totals.tokens)],
    ['cost', fmtUsd(totals.cost_usd), 'cost_pico', totals.cost_pico],
    ['cost, last hour', fmtUsd(totals.cost_last_hour_usd), 'cost_last_hour_pico', totals.cost_last_hour_pico],
  ];
  const c = clear($('cards'));
  for (const [k, v, key, raw] of cards) c.appendChild(h('div', { class: 'card', 'data-k': key, 'data-v': raw }, h('div', { class: 'v', text: v }), h('div', { class: 'k', text: k })));
  // Functions of the catalog that never ran are listed at zero: hidden here.
  const busy = (r) => r.calls || r.model_calls || r.cost_pico;
  table($('agents'), [
    ...callCols('agent'),
    ['in_flight', 'running', (r) => r.in_flight, fmtInt, true],
    ['model_calls', 'model calls', (r) => r.model_calls, fmtInt, true],
    ['tool_calls', 'tool calls', (r) => r.tool_calls, fmtInt, true],
    ...tokenCols,
    ...costCols,
  ], o.agents.filter(busy), { empty: 'no agent ran yet' });
  table($('models'), [
    ...callCols('model'),
    ['providers', 'provider', (r) => r.providers.join(', ')],
    ['ttft_p50_seconds', 'TTFT p50', (r) => r.ttft_p50_seconds, fmtSec, true],
    ...tokenCols,
    ...costCols,
  ], o.models.filter(busy), { empty: 'no model call yet' });
  table($('tools'), callCols('tool'), o.tools.filter(busy), { empty: 'no tool call yet' });
  renderBudgets(o.budgets);
  renderHealth(o.health);
  renderAlerts(o.alerts);
  // The readings every 10 s, then the figures of this moment.
  const t = o.totals;
  const now = [o.now_ms, t.agent_runs, t.model_calls, t.tool_calls, t.failed, t.cost_pico, 0];
  renderChart({ step_seconds: o.history.step_seconds, points: o.history.points.concat([now]) });
  if (!o.collecting) setStatus('runs are not collected (OBS_UI=false)');
}

function renderBudgets(budgets) {
  const el = clear($('budgets'));
  if (!budgets.length) return el.appendChild(h('div', { class: 'muted', text: 'no budget registered' }));
  for (const b of budgets) {
    const f = b.limit_usd > 0 ? b.spent_usd / b.limit_usd : 0;
    const bar = h('div');
    bar.style.width = Math.min(100, f * 100).toFixed(1) + '%';
    el.appendChild(h('div', { 'data-name': b.name, 'data-v': b.spent_pico },
      h('div', { class: 'line' },
        h('span', null, h('strong', { text: b.name }), ' ', h('span', { class: 'muted small', text: b.scope + ', per ' + b.period + (b.hard ? ', hard' : '') })),
        h('span', { text: fmtUsd(b.spent_usd) + ' of ' + fmtUsd(b.limit_usd) + ' (' + (f * 100).toFixed(0) + '%)' })),
      h('div', { class: 'meter' + (f >= 1 ? ' over' : '') }, bar)));
  }
}

function renderHealth(health) {
  const el = clear($('health'));
  if (!health) return el.appendChild(h('div', { class: 'muted', text: 'no health check registered' }));
  el.appendChild(h('div', { class: 'item' }, 'overall ', badge(health.status === 'healthy' ? 'success' : 'error'), ' ', health.status));
  for (const c of health.checks) {
    el.appendChild(h('div', { class: 'item line', 'data-name': c.name },
      h('span', null, h('strong', { text: c.name }), c.critical ? h('span', { class: 'muted small', text: ' critical' }) : null),
      h('span', null, badge(c.passed ? 'success' : 'error'), ' ', fmtSec(c.duration_seconds)),
    ));
    if (c.error) el.appendChild(h('div', { class: 'err small', text: c.error }));
  }
}

function renderAlerts(alerts) {
  const el = clear($('alerts'));
  if (!alerts.length) return el.appendChild(h('div', { class: 'muted', text: 'none firing' }));
  for (const a of alerts) {
    el.appendChild(h('div', { class: 'item', 'data-name': a.rule },
      h('div', { class: 'line' }, h('strong', { class: 'err', text: a.rule }), h('span', { class: 'muted small', text: a.severity + ', since ' + fmtAgo(a.since_ms) })),
      h('div', { class: 'small', text: a.subject + ' = ' + (a.value === null ? 'n/a' : Number(a.value.toPrecision(4))) + ' > ' + a.threshold }),
      a.description ? h('div', { class: 'muted small', text: a.description }) : null));
  }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Bars of calls per minute (failed ones in red) and a line of cost per minute. */
function renderChart(hist) {
  const canvas = $('chart');
  const pts = hist.points;
  // The server's clock, not the browser's: the last point is its "now".
  const now = pts.length ? pts[pts.length - 1][0] : Date.now();
  const minutes = 60;
  const calls = new Array(minutes).fill(0), failed = new Array(minutes).fill(0), cost = new Array(minutes).fill(0);
  for (let i = 1; i < pts.length; i++) {
    const [t, , m, tl, f, c] = pts[i];
    const [, , m0, tl0, f0, c0] = pts[i - 1];
    const slot = minutes - 1 - Math.floor((now - t) / 60000);
    if (slot < 0 || slot >= minutes) continue;
    calls[slot] += m - m0 + (tl - tl0);
    failed[slot] += f - f0;
    cost[slot] += (c - c0) / 1e12;
  }
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 640, hgt = canvas.clientHeight || 170;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, hgt);
  const top = 14, bottom = hgt - 18, left = 4, right = w - 4;
  const maxCalls = Math.max(1, ...calls), maxCost = Math.max(...cost);
  const bw = (right - left) / minutes;
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = cssVar('--track');
  g.fillRect(left, bottom, right - left, 1);
  for (let i = 0; i < minutes; i++) {
    const x = left + i * bw;
    const hc = ((bottom - top) * calls[i]) / maxCalls, hf = ((bottom - top) * failed[i]) / maxCalls;
    g.fillStyle = cssVar('--bar');
    g.fillRect(x + 1, bottom - hc, Math.max(1, bw - 2), hc);
    g.fillStyle = cssVar('--bad');
    g.fillRect(x + 1, bottom - hf, Math.max(1, bw - 2), hf);
  }
  if (maxCost > 0) {
    g.strokeStyle = cssVar('--accent');
    g.lineWidth = 2;
    g.beginPath();
    for (let i = 0; i < minutes; i++) {
      const x = left + i * bw + bw / 2, y = bottom - ((bottom - top) * cost[i]) / maxCost;
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    }
    g.stroke();
  }
  g.fillStyle = cssVar('--muted');
  g.fillText('60 min ago', left, hgt - 4);
  const nowLabel = 'now';
  g.fillText(nowLabel, right - g.measureText(nowLabel).width, hgt - 4);
  const peak = 'peak ' + maxCalls + ' calls/min' + (maxCost > 0 ? ', ' + fmtUsd(maxCost) + '/min' : '');
  g.fillText(peak, right - g.measureText(peak).width, 11);
  $('chart-note').textContent = pts.length < 3 ? 'the history fills in as the endpoint reads the metrics every ' + hist.step_seconds + ' s' : '';
}

// ---- Runs ----
let runsFilter = { agent: '', status: '', q: '' };

function runsQuery() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(runsFilter)) if (v) p.set(k, v);
  p.set('limit', '200');
  return 'api/runs?' + p.toString();
}

function renderRuns(data) {
  const sel = $('f-agent');
  const keep = sel.value;
  clear(sel).appendChild(h('option', { value: '', text: 'all' }));
  for (const a of data.agents) sel.appendChild(h('option', { value: a, text: a }));
  sel.value = data.agents.includes(keep) ? keep : '';
  const s = data.store;
  $('store').textContent = s.runs_kept + ' runs kept (of at most ' + fmtInt(s.max_runs) + '), ' + s.runs_in_progress + ' running, ' +
    (s.bytes / 1048576).toFixed(1) + ' of ' + (s.max_bytes / 1048576).toFixed(0) + ' MiB' +
    (s.runs_not_kept ? ', ' + s.runs_not_kept + ' not kept (no room)' : '');
  table($('runs'), [
    ['status', 'status', (r) => r.status, (v) => badge(v)],
    ['agent', 'agent', (r) => r.agent],
    ['name', 'root', (r) => r.name, (v, r) => h('span', null, kindTag(r.kind), ' ', v)],
    ['start_ms', 'started', (r) => r.start_ms, (v) => fmtTime(v) + ' (' + fmtAgo(v) + ')'],
    ['duration_ms', 'duration', (r) => r.duration_ms, fmtMs, true],
    ['calls', 'calls', (r) => r.calls, (v, r) => fmtInt(v) + (r.failed_calls ? ' (' + r.failed_calls + ' failed)' : '') + (r.cut_calls ? ' (cut)' : ''), true],
    ['tokens', 'tokens', (r) => sumTokens(r.tokens), fmtInt, true],
    ['cost_pico', 'cost', (r) => r.cost_pico, (v, r) => fmtUsd(r.cost_usd), true],
    ['request_id', 'request', (r) => r.request_id],
    ['user_id', 'user', (r) => r.user_id],
    ['conversation_id', 'conversation', (r) => r.conversation_id],
  ], data.runs, {
    empty: data.collecting ? 'no run yet' : 'runs are not collected (OBS_UI=false)',
    rowAttrs: (r) => ({ 'data-id': r.id, 'data-status': r.status, 'data-agent': r.agent }),
    onclick: (r) => { location.hash = '#runs/' + encodeURIComponent(r.id); },
  });
}

/** Calls in tree order (depth first, by start), each with its depth. */
function treeOrder(spans) {
  const byIndex = new Map(spans.map((s) => [s.index, s]));
  const kids = new Map();
  const roots = [];
  for (const s of spans) {
    // A call whose parent was not kept (the run was cut) hangs from the root.
    const p = s.parent !== null && byIndex.has(s.parent) ? s.parent : s.index === 0 ? null : byIndex.has(0) ? 0 : null;
    if (p === null) roots.push(s);
    else (kids.get(p) || kids.set(p, []).get(p)).push(s);
  }
  const out = [];
  const walk = (s, depth) => {
    out.push([s, depth]);
    for (const k of (kids.get(s.index) || []).sort((a, b) => a.start_ms - b.start_ms || a.index - b.index)) walk(k, depth + 1);
  };
  roots.sort((a, b) => a.index - b.index).forEach((r) => walk(r, 0));
  return out;
}

function detailRow(s, cols) {
  const parts = [];
  const field = (k, v) => v !== undefined && v !== null && parts.push(h('div', null, h('span', { class: 'muted', text: k + ': ' }), h('span', { 'data-k': k, text: v })));
  field('error type', s.error_type);
  if (s.error_message) parts.push(h('div', { class: 'err' }, h('span', { class: 'muted', text: 'error: ' }), h('span', { 'data-k': 'error_message', text: s.error_message })));
  else if (s.status === 'error' || s.status === 'panic') parts.push(h('div', { class: 'muted small', text: 'no message: its failure line was not written (a repeat within the rate limit, a filtered level, or an error type without Display)' }));
  field('function', s.function);
  if (s.kind !== 'agent') field('provider', s.provider);
  field('response model', s.response_model);
  field('finish reasons', s.finish_reasons);
  field('usage', s.usage);
  field('span', s.span + '  (' + s.target + ')');
  if (s.input !== undefined) parts.push(h('div', { class: 'muted', text: s.kind === 'tool' ? 'arguments' : 'input messages' }), h('pre', { 'data-k': 'input', text: s.input }));
  if (s.output !== undefined) parts.push(h('div', { class: 'muted', text: s.kind === 'tool' ? 'result' : 'output messages' }), h('pre', { 'data-k': 'output', text: s.output }));
  return h('tr', { class: 'detail', 'data-detail': s.index }, h('td', { colspan: cols }, parts));
}

function renderRun(run) {
  const el = clear($('view-run'));
  el.appendChild(h('p', null, h('a', { href: '#runs', text: '← all runs' })));
  if (run.notFound) {
    el.appendChild(h('div', { class: 'panel', text: 'No such run: it may have been evicted (the store keeps the last runs within its bound).' }));
    return;
  }
  el.appendChild(h('h2', null, kindTag(run.kind), ' ', h('span', { text: run.name }), ' ', badge(run.status)));
  const meta = h('div', { class: 'meta panel' });
  const m = (k, v) => meta.appendChild(h('div', null, h('span', { class: 'muted', text: k + ' ' }), h('span', { class: 'mono', 'data-k': k, text: v === null || v === undefined ? '–' : v })));
  m('run', run.id);
  m('trace', run.trace_id);
  m('agent', run.agent);
  m('started', fmtTime(run.start_ms));
  m('duration', fmtMs(run.duration_ms));
  m('calls', fmtInt(run.calls) + ' (' + run.model_calls + ' model, ' + run.tool_calls + ' tool, ' + run.failed_calls + ' failed)');
  m('tokens', fmtInt(sumTokens(run.tokens)));
  m('cost', fmtUsd(run.cost_usd));
  m('request', run.request_id);
  m('user', run.user_id);
  m('conversation', run.conversation_id);
  el.appendChild(meta);
  if (run.cut_calls) {
    el.appendChild(h('div', { class: 'notice', text: 'This run had ' + fmtInt(run.calls) + ' calls; ' + fmtInt(run.cut_calls) +
      ' are not shown (' + (run.cut_reason === 'calls' ? 'OBS_UI_RUN_CALLS' : 'the run store\u2019s memory bound, OBS_UI_MAX_BYTES') + '). Its totals count every call.' }));
  }
  const total = Math.max(run.duration_ms || 0, ...run.spans.map((s) => s.start_ms + s.duration_ms), 0.001);
  const cols = 8;
  const tbl = h('table', { class: 'wf', id: 'waterfall' });
  tbl.appendChild(h('thead', null, h('tr', null, ['call', 'timeline', 'status', 'duration', 'tokens in/out', 'cost', 'TTFT', ''].map((t, i) => h('th', { class: i >= 3 && i <= 6 ? 'n' : null, text: t })))));
  const body = h('tbody');
  for (const [s, depth] of treeOrder(run.spans)) {
    const name = h('td', { class: 'name' });
    name.style.paddingLeft = 8 + depth * 18 + 'px';
    name.appendChild(kindTag(s.kind));
    name.appendChild(h('span', { 'data-k': 'name', text: s.name }));
    const bar = h('div', { class: 'k-' + s.kind + ' s-' + s.status });
    bar.style.left = ((100 * s.start_ms) / total).toFixed(2) + '%';
    bar.style.width = ((100 * s.duration_ms) / total).toFixed(2) + '%';
    const tokens = s.tokens ? fmtInt(s.tokens.input) + ' / ' + fmtInt(s.tokens.output) : '';
    const tr = h('tr', { class: 'click', 'data-index': s.index, 'data-parent': s.parent, 'data-status': s.status, 'data-kind': s.kind },
      name,
      h('td', { class: 'track' }, h('div', { class: 'lane' }, bar)),
      h('td', null, badge(s.status)),
      h('td', { class: 'n', text: fmtMs(s.duration_ms) }),
      h('td', { class: 'n', 'data-k': 'tokens', 'data-v': s.tokens ? JSON.stringify(s.tokens) : null, text: tokens }),
      h('td', { class: 'n', 'data-k': 'cost', 'data-v': s.cost_pico, text: s.cost_usd === undefined ? '' : fmtUsd(s.cost_usd) }),
      h('td', { class: 'n', text: s.ttft_ms === undefined || s.ttft_ms === null ? '' : fmtMs(s.ttft_ms) }),
      h('td', { class: 'err small', 'data-k': 'error_type', text: s.error_type || '' }));
    const detail = detailRow(s, cols);
    // Failed calls show their error at once; the others on a click.
    detail.hidden = !(s.status === 'error' || s.status === 'panic');
    tr.addEventListener('click', () => { detail.hidden = !detail.hidden; });
    body.appendChild(tr);
    body.appendChild(detail);
  }
  tbl.appendChild(body);
  el.appendChild(h('div', { class: 'panel scroll' }, tbl));
}

// ---- Failures ----
function renderFailures(data) {
  table($('failures'), [
    ['function', 'function', (r) => r.function, (v, r) => h('span', null, kindTag(r.kind), ' ', v)],
    ['name', 'name', (r) => r.name],
    ['status', 'status', (r) => r.status, (v) => badge(v)],
    ['error_type', 'error type', (r) => r.error_type],
    ['count', 'count', (r) => r.count, fmtInt, true],
    ['last_ms', 'last seen', (r) => r.last_ms, (v) => fmtAgo(v)],
    ['messages', 'messages', (r) => r.messages.join(' | '), (v, r) => h('div', null, r.messages.map((m) => h('div', { class: 'err small', text: m })))],
    ['last_run', 'run', (r) => r.last_run, (v) => (v ? h('a', { href: '#runs/' + encodeURIComponent(v), text: 'last run' }) : '–')],
  ], data.failures, { empty: 'no failure', rowAttrs: (r) => ({ 'data-name': r.function, 'data-error-type': r.error_type }) });
}

// ---- Routing and polling ----
let timer = null;
let busy = false;

function route() {
  const hash = location.hash || '#overview';
  const [view, id] = hash.slice(1).split('/');
  let run = null;
  try {
    run = id ? decodeURIComponent(id) : null;
  } catch (e) {
    run = id; // not percent-encoding: the API answers "no such run"
  }
  return { view: ['overview', 'runs', 'failures'].includes(view) ? view : 'overview', id: run };
}

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const r = route();
    for (const v of ['overview', 'runs', 'failures']) $('tab-' + v).classList.toggle('active', v === r.view);
    $('view-overview').hidden = r.view !== 'overview';
    $('view-runs').hidden = !(r.view === 'runs' && !r.id);
    $('view-run').hidden = !(r.view === 'runs' && r.id);
    $('view-failures').hidden = r.view !== 'failures';
    let data;
    if (r.view === 'overview') {
      if ((data = await api('api/overview'))) renderOverview(data);
    } else if (r.view === 'runs' && r.id) {
      if ((data = await api('api/runs/' + encodeURIComponent(r.id)))) renderRun(data);
    } else if (r.view === 'runs') {
      if ((data = await api(runsQuery()))) renderRuns(data);
    } else if ((data = await api('api/failures'))) {
      renderFailures(data);
    }
    document.body.setAttribute('data-loaded', r.view + (r.id ? '/' + r.id : ''));
  } finally {
    busy = false;
  }
}

/** Refreshes every POLL_MS, counting the time a refresh takes. */
function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    const t0 = Date.now();
    // A finished run does not change: polled only while it runs.
    const r = route();
    const open = r.view === 'runs' && r.id;
    const running = open && document.querySelector('#view-run .badge.s-running');
    if (!document.hidden && (!open || running)) await refresh();
    schedule(Math.max(100, POLL_MS - (Date.now() - t0)));
  }, delay);
}

let debounce = null;
function wireFilters() {
  $('f-agent').addEventListener('change', (e) => { runsFilter.agent = e.target.value; refresh(); });
  $('f-status').addEventListener('change', (e) => { runsFilter.status = e.target.value; refresh(); });
  $('f-text').addEventListener('input', (e) => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { runsFilter.q = e.target.value.trim(); refresh(); }, 250);
  });
}

window.addEventListener('hashchange', () => { window.scrollTo(0, 0); refresh(); });
document.addEventListener('DOMContentLoaded', () => {
  wireFilters();
  refresh();
  schedule(POLL_MS);
});
