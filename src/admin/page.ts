/**
 * The admin page: one HTML file, one stylesheet, one script, all served by the service itself
 * (no build step, no CDN, works offline). The script talks to the JSON API with the bearer token the
 * admin types in (kept in sessionStorage of that tab only). All data is inserted with textContent (the model
 * card too: the server parses its Markdown into plain blocks, src/admin/markdown.ts).
 */
import { PAGE_FORMAT_JS } from './page-format.js';
import { PAGE_CALIBRATION_JS, PAGE_CALIBRATION_CSS, PAGE_CALIBRATION_TAB, PAGE_CALIBRATION_SECTION } from './page-calibration.js';
import { DESTINATIONS_CSS, DESTINATIONS_HTML, DESTINATIONS_JS } from './page-destinations.js';
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OsteoScreen admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/admin.css">
<script src="/assets/admin.js" defer></script>
</head>
<body>
<header>
  <h1>OsteoScreen <span class="muted" id="version"></span></h1>
  <div class="banner">UNVERIFIED &mdash; research/screening use only. Not a diagnosis.</div>
  <div id="overview" class="overview"></div>
</header>
<section id="login" hidden>
  <form id="login-form">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="off" size="40" placeholder="bearer token (see the admin-token file in the data folder)">
    <button type="submit">Sign in</button>
    <span id="login-error" class="error"></span>
  </form>
</section>
<main id="app" hidden>
  <nav>
    <button class="tab active" data-tab="jobs">Jobs</button>
    <button class="tab" data-tab="drift">Drift <span id="drift-count" class="badge warn" hidden></span></button>
    ${PAGE_CALIBRATION_TAB}
    <button class="tab" data-tab="model">Model &amp; config</button>
    <button class="tab" data-tab="outbox">Outbox</button>
    <button class="tab" data-tab="audit">Audit log</button>
    <span class="spacer"></span>
    <span id="refreshed" class="muted"></span>
    <button id="logout" class="link">Sign out</button>
  </nav>
  <div id="message" class="message" hidden></div>

  <section id="tab-jobs" class="tab-body">
    <div class="filters">
      <label>State <select id="f-state"><option value="">all</option></select></label>
      <label>Flag <select id="f-flagged"><option value="">all</option><option value="true">flagged</option><option value="false">not flagged</option></select></label>
      <label>Since <input id="f-since" type="date"></label>
      <button id="retry-all" title="Retry every dead-letter output">Retry all dead-letters</button>
    </div>
    <table id="jobs" class="grid">
      <thead><tr><th>Updated</th><th>Study</th><th>Series</th><th>State</th><th>Result</th><th>Reason</th><th>Summary</th><th>Outputs</th><th>Actions</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="jobs-empty" class="muted" hidden>No studies received yet. Send a lumbar spine MR study to this node.</p>
    <div id="detail" class="detail" hidden></div>
  </section>

  <section id="tab-drift" class="tab-body" hidden>
    <p class="muted" id="drift-help"></p>
    <div id="drift"></div>
  </section>

${PAGE_CALIBRATION_SECTION}

  <section id="tab-model" class="tab-body" hidden>
    <div id="model"></div>
    <h3>Effective configuration (secrets masked)</h3>
    <pre id="config" class="code"></pre>
  </section>

  <section id="tab-outbox" class="tab-body" hidden>
    ${DESTINATIONS_HTML}
    <table id="outbox" class="grid"><thead><tr><th>Id</th><th>Study</th><th>Kind</th><th>Destination</th><th>State</th><th>Attempts</th><th>Last error</th><th>Sent</th></tr></thead><tbody></tbody></table>
    <h3>Housekeeping</h3>
    <table id="housekeeping" class="grid"><thead><tr><th>Task</th><th>Schedule</th><th>Last run</th><th>Result</th><th>Next run</th><th></th></tr></thead><tbody></tbody></table>
  </section>

  <section id="tab-audit" class="tab-body" hidden>
    <table id="audit" class="grid"><thead><tr><th>When</th><th>Who (token id)</th><th>IP</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead><tbody></tbody></table>
  </section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --fg:#1d232a; --muted:#5f6b77; --line:#d6dbe0; --bg:#f6f7f9; --ok:#1f7a3a; --bad:#b42318; --warn:#b54708; --info:#175cd3; --grey:#667085; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin:0; font: 14px/1.4 "DejaVu Sans", system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:10px 16px; }
h1 { font-size:20px; margin:0 0 4px 0; }
h3 { margin:16px 0 6px; font-size:15px; }
.muted { color: var(--muted); font-weight: normal; }
.banner { color: var(--warn); font-size: 12px; margin-bottom: 6px; }
.overview { display:flex; flex-wrap:wrap; gap:8px; font-size:13px; }
.overview .chip { background: var(--bg); border:1px solid var(--line); border-radius: 12px; padding: 2px 10px; }
.overview .chip.warn { border-color: var(--warn); color: var(--warn); }
main, #login { padding: 10px 16px; }
nav { display:flex; gap:6px; align-items:center; border-bottom:1px solid var(--line); margin-bottom:10px; }
nav .spacer { flex:1; }
.tab { border:1px solid transparent; border-bottom:none; background:none; padding:6px 12px; cursor:pointer; font: inherit; border-radius:4px 4px 0 0; }
.tab.active { background:#fff; border-color: var(--line); margin-bottom:-1px; font-weight:bold; }
button { font: inherit; white-space: nowrap; padding: 3px 10px; border:1px solid var(--line); border-radius:4px; background:#fff; cursor:pointer; }
button:hover { border-color: var(--info); }
button.danger { color: var(--bad); }
button.link { border:none; background:none; color: var(--info); text-decoration: underline; }
button:disabled { opacity:.5; cursor: default; }
.filters { display:flex; gap:12px; align-items:center; margin-bottom:8px; }
table.grid { border-collapse: collapse; width:100%; background:#fff; }
.grid th, .grid td { border-bottom:1px solid var(--line); padding:5px 8px; text-align:left; vertical-align: top; }
.grid th { background:#eef1f4; font-size:12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
.grid tr.selected td { background:#eaf2ff; }
.grid tbody tr:hover td { background:#f3f7fc; cursor: default; }
.uid { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; color: var(--muted); }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:bold; color:#fff; background: var(--grey); white-space: nowrap; }
.badge[data-state=done] { background: var(--ok); }
.badge[data-state=failed] { background: var(--bad); }
.badge[data-state=not-assessable] { background: var(--warn); }
.badge[data-state=processing], .badge[data-state=queued] { background: var(--info); }
.badge[data-state=receiving], .badge[data-state=stable] { background: #7a5af8; }
.badge[data-state=sent] { background: var(--ok); }
.badge[data-state=pending] { background: var(--info); }
.badge[data-state=dead-letter] { background: var(--bad); }
.badge.warn { background: var(--warn); }
.badge.ok { background: var(--ok); }
.flag { font-weight:bold; }
.flag.yes { color: var(--bad); }
.flag.no { color: var(--ok); }
.reason { max-width: 320px; color: var(--muted); font-size: 13px; }
img.thumb { height: 64px; border:1px solid var(--line); background:#000; cursor: zoom-in; }
img.big { max-width: 100%; border:1px solid var(--line); }
.actions { display:flex; gap:4px; flex-wrap: wrap; }
.detail { background:#fff; border:1px solid var(--line); margin-top: 12px; padding: 10px 14px; }
dl { display:grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px 0; }
dt { color: var(--muted); }
dd { margin: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
.detail .grid td { font-size: 13px; }
td.feature { word-break: break-all; }
.cols { display:flex; gap: 24px; flex-wrap: wrap; }
.cols > div { flex: 1 1 420px; min-width: 0; }
.code { background:#fff; border:1px solid var(--line); padding:8px; overflow:auto; max-height: 420px; font-size: 12px; }
.message { padding:6px 10px; border-radius:4px; margin-bottom:8px; background:#eaf2ff; border:1px solid #b2ccff; }
.message.error, .error { color: var(--bad); }
.message.error { background:#fef3f2; border-color:#fda29b; }
.drift-card { background:#fff; border:1px solid var(--line); padding:8px 12px; margin-bottom:10px; }
.drift-card.warn { border-color: var(--warn); }
.model-card table { border-collapse: collapse; margin: 6px 0; } .model-card th, .model-card td { border: 1px solid var(--line); padding: 2px 6px; text-align: left; }
.model-card pre { background:#f4f6f8; padding:6px; overflow:auto; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.z-warn, span.z-warn { color: var(--warn); font-weight: bold; }
${DESTINATIONS_CSS}` + PAGE_CALIBRATION_CSS;

export const PAGE_JS = "'use strict';\n" + PAGE_FORMAT_JS + '\n(function () {\n' + PAGE_CALIBRATION_JS + String.raw`
  var TOKEN_KEY = 'osteoscreen-admin-token';
  var token = sessionStorage.getItem(TOKEN_KEY) || '';
  var selected = null;          // study UID shown in the detail panel
  var thumbs = {};              // studyUid + job id -> object URL (or '' when none)
  var timer = null;
  var currentTab = 'jobs';
  var STATES = ['receiving', 'stable', 'queued', 'processing', 'done', 'failed', 'not-assessable'];

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'class') e.className = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function fmtTime(iso) { if (!iso) return '—'; var d = new Date(iso); return d.toLocaleString(); }
  function fmtNum(x, digits) {
    if (x === null || x === undefined || x === '' || !isFinite(x)) return '—';
    x = Number(x);
    if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString('en-US');
    if (Math.abs(x) >= 1e4) return Math.round(x).toLocaleString('en-US');
    return x.toFixed(digits === undefined ? 3 : digits);
  }
  function fmtBytes(b) { if (b === null || b === undefined || !isFinite(b)) return '—'; var u = ['B', 'kB', 'MB', 'GB', 'TB']; var i = 0; while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; } return b.toFixed(i ? 1 : 0) + ' ' + u[i]; }
  function shortUid(u) { return u && u.length > 24 ? '…' + u.slice(-22) : (u || ''); }
  function badge(state) { return el('span', { class: 'badge', 'data-state': state, text: state }); }

  function api(path, opts) {
    opts = opts || {};
    var headers = { authorization: 'Bearer ' + token };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, { method: opts.method || 'GET', headers: headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }).then(function (r) {
      if (r.status === 401) { signOut('The token was not accepted.'); throw new Error('unauthorized'); }
      if (opts.raw) return r;
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j && j.message) || ('HTTP ' + r.status));
        return j;
      });
    });
  }

  function message(text, isError) {
    var m = $('message');
    m.textContent = text;
    m.className = 'message' + (isError ? ' error' : '');
    m.hidden = !text;
  }

  function signOut(why) {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    if (timer) clearInterval(timer);
    timer = null;
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = why || '';
  }

  function start() {
    $('login').hidden = true;
    $('app').hidden = false;
    refresh();
    loadStatic();
    openLinkedStudy();
    if (timer) clearInterval(timer);
    timer = setInterval(refresh, 3000);
  }

  // ------------------------------------------------------------------ overview + jobs
  function refresh() {
    if (!token) return;
    Promise.all([refreshOverview(), currentTab === 'jobs' ? refreshJobs() : refreshTab(currentTab)]).then(function () {
      $('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString();
    }).catch(function (e) { if (e.message !== 'unauthorized') message('Refresh failed: ' + e.message, true); });
  }

  function refreshOverview() {
    return api('/api/overview').then(function (o) {
      $('version').textContent = o.version ? 'v' + o.version : '';
      var box = clear($('overview'));
      box.appendChild(el('span', { class: 'chip', text: 'AE ' + o.aeTitle + ' : ' + o.dicomPort }));
      STATES.forEach(function (s) { if (o.studies[s]) box.appendChild(el('span', { class: 'chip', text: s + ': ' + o.studies[s] })); });
      box.appendChild(el('span', { class: 'chip' + (o.outbox.deadLetter ? ' warn' : ''), text: 'outbox pending ' + o.outbox.pending + ', dead-letter ' + o.outbox.deadLetter }));
      box.appendChild(el('span', { class: 'chip', text: 'disk free ' + fmtBytes(o.diskFreeBytes) }));
      if (o.model) box.appendChild(el('span', { class: 'chip' + (o.model.calibrated ? '' : ' warn'), text: 'model ' + o.model.name + ' ' + o.model.version + (o.model.calibrated ? '' : ' (uncalibrated)') }));
      else box.appendChild(el('span', { class: 'chip warn', text: 'model not loaded: ' + (o.modelError || '?') }));
      if (o.segmentationModel && !o.segmentationModel.ready) box.appendChild(el('span', { class: 'chip warn', text: 'not analysing: ' + o.segmentationModel.reason }));
      var dc = $('drift-count');
      dc.hidden = !o.driftWarnings.length;
      dc.textContent = String(o.driftWarnings.length);
      if (o.driftWarnings.length) box.appendChild(el('span', { class: 'chip warn', text: 'drift warning: ' + o.driftWarnings.join(', ') }));
      showCalibrationProposals(o, box);
    });
  }

  function jobsQuery() {
    var q = ['limit=200'];
    var s = $('f-state').value; if (s) q.push('state=' + encodeURIComponent(s));
    var f = $('f-flagged').value; if (f) q.push('flagged=' + f);
    var d = $('f-since').value; if (d) q.push('since=' + encodeURIComponent(new Date(d + 'T00:00:00').toISOString()));
    return '/api/studies?' + q.join('&');
  }

  function refreshJobs() {
    return api(jobsQuery()).then(function (rows) {
      var tb = clear(document.querySelector('#jobs tbody'));
      $('jobs-empty').hidden = rows.length > 0;
      rows.forEach(function (s) { tb.appendChild(jobRow(s)); });
      if (selected) return showDetail(selected, true);
    });
  }

  function jobRow(s) {
    var tr = el('tr', { 'data-study': s.studyInstanceUid, class: s.studyInstanceUid === selected ? 'selected' : '' });
    tr.addEventListener('click', function (ev) { if (ev.target.closest('button') || ev.target.tagName === 'IMG') return; showDetail(s.studyInstanceUid); });
    tr.appendChild(el('td', { text: fmtTime(s.updatedAt) }));
    tr.appendChild(el('td', {}, [el('div', { text: (s.description || '(no description)') + (s.studyDate ? ' · ' + s.studyDate : '') }), el('div', { class: 'uid', title: s.studyInstanceUid, text: shortUid(s.studyInstanceUid) })]));
    tr.appendChild(el('td', { class: 'num', text: s.seriesCount === undefined ? '' : String(s.seriesCount) }));
    tr.appendChild(el('td', {}, [badge(s.state), s.job && s.job.attempts > 1 ? el('div', { class: 'muted', text: 'attempt ' + s.job.attempts }) : null]));
    tr.appendChild(resultCell(s));
    tr.appendChild(el('td', { class: 'reason', text: s.reason || (s.job && s.job.reason) || '' }));
    var thumbCell = el('td', {});
    tr.appendChild(thumbCell);
    if (s.hasSummary) loadThumb(s, thumbCell);
    var o = s.outputCounts || { pending: 0, sent: 0, deadLetter: 0 };
    tr.appendChild(el('td', { text: o.sent + ' sent' + (o.pending ? ', ' + o.pending + ' pending' : '') + (o.deadLetter ? ', ' + o.deadLetter + ' dead' : '') }));
    var busy = s.state === 'processing' || s.state === 'queued' || s.state === 'receiving';
    tr.appendChild(el('td', {}, [el('div', { class: 'actions' }, [
      el('button', { 'data-action': 'rerun', disabled: busy || s.filesDeleted, title: s.filesDeleted ? 'instance files were deleted' : 'queue the analysis again', text: 'Re-run', onclick: function () { act('POST', '/api/studies/' + s.studyInstanceUid + '/rerun', 'Re-run queued'); } }),
      o.deadLetter ? el('button', { 'data-action': 'retry', text: 'Retry outputs', onclick: function () { act('POST', '/api/studies/' + s.studyInstanceUid + '/retry-outputs', 'Outputs re-queued'); } }) : null,
    ])]));
    return tr;
  }

  function loadThumb(s, cell) {
    var key = s.studyInstanceUid + '#' + (s.job ? s.job.id : '') + '#' + s.updatedAt;
    var show = function (url) {
      if (!url) { cell.textContent = '—'; return; }
      cell.appendChild(el('img', { class: 'thumb', src: url, alt: 'summary image', onclick: function () { showDetail(s.studyInstanceUid); } }));
    };
    if (key in thumbs) return show(thumbs[key]);
    api('/api/studies/' + encodeURIComponent(s.studyInstanceUid) + '/summary.png', { raw: true }).then(function (r) {
      if (!r.ok) return '';
      return r.blob().then(function (b) { return URL.createObjectURL(b); });
    }).then(function (url) { thumbs[key] = url; show(url); }).catch(function () { /* shown next refresh */ });
  }

  function act(method, path, done, body) {
    return api(path, { method: method, body: body }).then(function (r) {
      message(done + (r && r.retried !== undefined ? ' (' + r.retried + ')' : '') + '.', false);
      if (r && r.job && r.studyInstanceUid) markQueued(r.studyInstanceUid, r.job);
      return refresh();
    }).catch(function (e) { if (e.message !== 'unauthorized') message(e.message, true); });
  }

  // Show the state the server answered (the new job is queued) until the next refresh replaces the row.
  function markQueued(uid, job) {
    document.querySelectorAll('#jobs tbody tr').forEach(function (tr) {
      if (tr.getAttribute('data-study') !== uid) return;
      var b = tr.querySelector('.badge');
      if (b) { b.textContent = job.state; b.setAttribute('data-state', job.state); }
      tr.querySelectorAll('button[data-action=rerun]').forEach(function (x) { x.disabled = true; });
    });
  }

  // ------------------------------------------------------------------ detail
  function kv(pairs) {
    var dl = el('dl');
    pairs.forEach(function (p) { if (p[1] === undefined) return; dl.appendChild(el('dt', { text: p[0] })); dl.appendChild(el('dd', {}, [p[1] instanceof Node ? p[1] : document.createTextNode(p[1] === null || p[1] === '' ? '—' : String(p[1]))])); });
    return dl;
  }
  function table(head, rows) {
    var t = el('table', { class: 'grid' });
    t.appendChild(el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', { text: h }); }))]));
    var tb = el('tbody');
    var featureCol = head.indexOf('Feature');
    rows.forEach(function (r) { tb.appendChild(el('tr', {}, r.map(function (c, i) { var cls = i === featureCol ? 'feature' : undefined; return c instanceof Node ? el('td', { class: cls }, [c]) : el('td', { class: cls, text: c === null || c === undefined ? '—' : String(c) }); }))); });
    t.appendChild(tb);
    return el('div', { class: 'scroll' }, [t]);
  }

  function showDetail(uid, quiet) {
    selected = uid;
    document.querySelectorAll('#jobs tbody tr').forEach(function (tr) { tr.classList.toggle('selected', tr.getAttribute('data-study') === uid); });
    return api('/api/studies/' + encodeURIComponent(uid)).then(function (d) { renderDetail(d); }).catch(function (e) {
      if (e.message === 'unauthorized') return;
      if (!quiet) message(e.message, true);
      selected = null; $('detail').hidden = true;
    });
  }

  function renderDetail(d) {
    var box = clear($('detail'));
    box.hidden = false;
    var job = d.job || {};
    var res = job.result || {};
    box.appendChild(el('div', { class: 'actions' }, [
      el('h3', { text: 'Study ' + (d.description || '') }),
      el('span', { class: 'spacer' }),
      el('button', { 'data-action': 'rerun-detail', text: 'Re-run', disabled: d.state === 'processing' || d.state === 'queued', onclick: function () { act('POST', '/api/studies/' + d.studyInstanceUid + '/rerun', 'Re-run queued'); } }),
      el('button', { text: 'Retry dead-letter outputs', onclick: function () { act('POST', '/api/studies/' + d.studyInstanceUid + '/retry-outputs', 'Outputs re-queued'); } }),
      el('button', { class: 'danger', 'data-action': 'delete-files', text: 'Delete instance files', onclick: function () { if (confirm('Delete the received instance files of this study? Index rows and reports are kept; the study can no longer be re-run.')) act('POST', '/api/studies/' + d.studyInstanceUid + '/delete-files', 'Instance files deleted'); } }),
      el('button', { class: 'danger', 'data-action': 'delete-study', text: 'Delete study', onclick: function () { if (confirm('Delete this study completely (files, outputs and index rows)?')) act('DELETE', '/api/studies/' + d.studyInstanceUid, 'Study deleted').then(function () { selected = null; $('detail').hidden = true; }); } }),
      el('button', { class: 'link', text: 'close', onclick: function () { selected = null; box.hidden = true; refreshJobs(); } }),
    ]));
    var cols = el('div', { class: 'cols' });
    box.appendChild(cols);
    var left = el('div');
    var right = el('div');
    cols.appendChild(left); cols.appendChild(right);
    left.appendChild(kv([
      ['Study UID', el('span', { class: 'uid', text: d.studyInstanceUid })],
      ['Patient', (d.patientName || '') + (d.patientId ? ' (' + d.patientId + ')' : '')],
      ['Study date', d.studyDate],
      ['State', badge(d.state)],
      ['Reason', d.reason],
      ['Flag', d.flag === true ? 'FLAGGED (abnormal bone mass suspected)' : d.flag === false ? 'not flagged' : d.flagSuppressed ? noFlagTitle(d) + ': ' + d.flagSuppressed : '—'],
      ['Radscore', d.score === null ? null : fmtScore(d.score, d.cutoff)],
      ['Model', res.model ? res.model.name + ' ' + res.model.version + (res.calibrated === false ? ' — uncalibrated' : '') : null],
      ['Model choice', d.modelChoice || undefined],
      ['Scanner', res.scanner ? [res.scanner.manufacturer, res.scanner.model, res.scanner.station].filter(Boolean).join(' / ') : null],
      ['Job', job.id ? '#' + job.id + ' ' + job.state + ', attempt ' + job.attempts + ', trigger ' + job.trigger : null],
      ['Timings (s)', job.timings ? Object.keys(job.timings).map(function (k) { return k + ' ' + fmtNum(job.timings[k], 2); }).join(', ') : null],
    ]));
    if (d.hasSummary) {
      var img = el('img', { class: 'big', alt: 'summary image' });
      right.appendChild(img);
      api('/api/studies/' + encodeURIComponent(d.studyInstanceUid) + '/summary.png', { raw: true }).then(function (r) { return r.ok ? r.blob() : null; }).then(function (b) { if (b) img.src = URL.createObjectURL(b); });
    }

    left.appendChild(el('h3', { text: 'Series and selection' }));
    var sel = d.selection || {};
    var why = {};
    (sel.skipped || []).forEach(function (s) { why[s.series] = s.reason; });
    left.appendChild(table(['#', 'Description', 'Inst.', 'TR/TE', 'State', 'Selection', ''], (d.series || []).map(function (s) {
      var role = s.seriesInstanceUid === sel.t1 ? 'T1 (selected)' : s.seriesInstanceUid === sel.t2 ? 'T2 (selected)' : why[s.seriesInstanceUid] ? 'skipped: ' + why[s.seriesInstanceUid] : '';
      return [s.seriesNumber, s.description, s.instances, fmtNum(s.repetitionTime, 0) + '/' + fmtNum(s.echoTime, 1), badge(s.state), role,
        s.state === 'receiving' ? el('button', { 'data-action': 'complete', text: 'Force complete', onclick: function () { act('POST', '/api/series/' + s.seriesInstanceUid + '/complete', 'Series marked complete'); } }) : ''];
    })));

    var seg = job.segmentation;
    var levels = (seg && (seg.levels || seg.qa)) || res.levels;
    if (levels && levels.length) {
      left.appendChild(el('h3', { text: 'Segmentation levels and QA' }));
      var keys = Object.keys(levels[0]).filter(function (k) { return typeof levels[0][k] !== 'object'; });
      left.appendChild(table(keys.map(keyLabel), levels.map(function (l) { return keys.map(function (k) { return typeof l[k] === 'number' ? fmtNum(l[k], 1) : l[k]; }); })));
      if (seg) left.appendChild(kv([
        ['QA', seg.ok === false ? 'failed: ' + (seg.reason || '') : seg.ok === true ? 'passed' : undefined],
        ['Agreement', seg.agreement ? Object.keys(seg.agreement).map(function (k) { return k + ' ' + fmtNum(seg.agreement[k], 3); }).join(', ') : undefined],
      ]));
    } else if (seg) {
      left.appendChild(el('h3', { text: 'Segmentation' }));
      left.appendChild(el('pre', { class: 'code', text: JSON.stringify(seg, null, 1) }));
    }
    if (res.terms && res.terms.length) {
      right.appendChild(el('h3', { text: 'Features used' }));
      right.appendChild(table(['Seq', 'Feature', 'Value', 'z', 'Coef.', 'Contribution'], res.terms.map(function (t) {
        var out = (res.outOfRange || []).some(function (o) { return o.sequence === t.sequence && o.feature === t.feature; });
        return [t.sequence, t.feature, fmtPeople(t.value), el('span', { class: out ? 'z-warn' : '', title: out ? 'outside the model\'s calibrated range' : '', text: fmtNum(t.z, 2) }), fmtPeople(t.coefficient), fmtPeople(t.contribution)];
      })));
    }
    right.appendChild(el('h3', { text: 'Outputs' }));
    right.appendChild((d.outputs || []).length ? table(['Kind', 'Destination', 'State', 'Attempts', 'Last error', 'Sent'], d.outputs.map(function (o) {
      return [o.kind, o.destination, badge(o.state), o.attempts, o.lastError, fmtTime(o.sentAt)];
    })) : el('p', { class: 'muted', text: 'No outputs.' }));
    right.appendChild(el('h3', { text: 'Jobs' }));
    right.appendChild(table(['Id', 'State', 'Trigger', 'Attempts', 'Reason'], (d.jobs || []).slice().reverse().map(function (j) { return [j.id, badge(j.state), j.trigger, j.attempts, j.reason]; })));
  }

  // ------------------------------------------------------------------ other tabs
  function refreshTab(tab) {
    if (tab === 'drift') return refreshDrift();
    if (tab === 'calibration') return refreshCalibration();
    if (tab === 'outbox') return refreshOutbox();
    if (tab === 'audit') return refreshAudit();
    return Promise.resolve();
  }

  function refreshDrift() {
    return api('/api/drift').then(function (r) {
      $('drift-help').textContent = 'Running mean of each model feature per scanner, compared with the model normalisation (' + (r.model ? r.model.name + ' ' + r.model.version + ', ' + r.model.normalisation : 'no model') + '). A scanner warns when it has at least ' + r.minStudies + ' studies and |z| > ' + r.maxZ + '.';
      var box = clear($('drift'));
      if (!r.scanners.length) box.appendChild(el('p', { class: 'muted', text: 'No scored studies yet.' }));
      r.scanners.forEach(function (s) {
        var card = el('div', { class: 'drift-card' + (s.warn ? ' warn' : ''), 'data-scanner': s.scanner });
        card.appendChild(el('h3', {}, [s.scanner + ' ', s.warn ? el('span', { class: 'badge warn', text: 'DRIFT' }) : s.judged ? el('span', { class: 'badge ok', text: 'ok' }) : el('span', { class: 'badge', text: 'too few studies' }), el('span', { class: 'muted', text: ' ' + s.studies + ' studies' })]));
        var t = table(['Seq', 'Feature', 'n', 'Mean', 'SD', 'Model mean', 'Model SD', 'z'], s.terms.map(function (x) {
          var z = el('span', { class: x.warn ? 'z-warn' : '', text: fmtNum(x.z, 2) });
          return [x.sequence, x.feature, x.n, fmtNum(x.mean, 4), fmtNum(x.sd, 4), fmtNum(x.modelMean, 4), fmtNum(x.modelSd, 4), z];
        }));
        card.appendChild(t);
        box.appendChild(card);
      });
    });
  }

${DESTINATIONS_JS}
  function refreshOutbox() {
    return Promise.all([api('/api/outbox?limit=200'), api('/api/housekeeping'), refreshDestinations()]).then(function (r) {
      var tb = clear(document.querySelector('#outbox tbody'));
      r[0].forEach(function (o) { tb.appendChild(el('tr', {}, [el('td', { text: o.id }), el('td', { class: 'uid', text: shortUid(o.studyInstanceUid) }), el('td', { text: o.kind }), el('td', { text: o.destination }), el('td', {}, [badge(o.state)]), el('td', { text: o.attempts }), el('td', { class: 'reason', text: o.lastError || '' }), el('td', { text: fmtTime(o.sentAt) })])); });
      var hb = clear(document.querySelector('#housekeeping tbody'));
      r[1].forEach(function (h) {
        hb.appendChild(el('tr', {}, [el('td', { text: h.task }), el('td', { class: 'uid', text: h.cron }), el('td', { text: fmtTime(h.lastRun) }), el('td', { class: 'reason', text: h.lastError ? 'error: ' + h.lastError : h.lastResult ? JSON.stringify(h.lastResult) : '' }), el('td', { text: fmtTime(h.nextRun) }),
          el('td', {}, [el('button', { 'data-action': 'housekeeping-' + h.task, text: 'Run now', onclick: function () { if (h.task !== 'retention' || confirm('Run retention now? It deletes the instance files of finished studies older than the configured number of days.')) act('POST', '/api/housekeeping/' + h.task, 'Ran ' + h.task); } })])]));
      });
    });
  }

  function refreshAudit() {
    return api('/api/audit?limit=200').then(function (rows) {
      var tb = clear(document.querySelector('#audit tbody'));
      rows.forEach(function (a) { tb.appendChild(el('tr', {}, [el('td', { text: fmtTime(a.at) }), el('td', { text: a.actor }), el('td', { text: a.ip || '' }), el('td', { text: a.action }), el('td', { class: 'uid', text: a.target || '' }), el('td', { class: 'reason', text: a.detail ? JSON.stringify(a.detail) : '' })])); });
    });
  }

  function loadStatic() {
    api('/api/config').then(function (c) { $('config').textContent = JSON.stringify(c, null, 2); }).catch(function () {});
    api('/api/model').then(function (m) {
      var box = clear($('model'));
      var r = m.radscore;
      if (!r) { box.appendChild(el('p', { class: 'error', text: 'Radscore model not loaded: ' + m.radscoreError })); }
      else {
        box.appendChild(el('h3', { text: 'Radscore model ' + r.name + ' ' + r.version }));
        box.appendChild(kv([
          ['File', r.file], ['Hash', el('span', { class: 'uid', text: r.hash })], ['Calibrated', r.calibrated ? 'yes' : 'NO — scores are uncalibrated'],
          ['Normalisation', r.normalisation.source + ': ' + r.normalisation.description], ['Intercept', fmtPeople(r.intercept)], ['Cut-off', 'flag when radscore > ' + r.cutoff],
          ['Labels', '0 = ' + r.labels['0'] + ', 1 = ' + r.labels['1']], ['Provenance', r.provenance.source + (r.provenance.auc ? ', AUC ' + r.provenance.auc : '')],
        ]));
        box.appendChild(el('p', { class: 'muted', text: r.description }));
        box.appendChild(table(['Seq', 'Feature', 'Coefficient', 'Mean', 'SD'], r.terms.map(function (t) { return [t.sequence, t.feature, fmtPeople(t.coefficient), fmtPeople(t.mean), fmtPeople(t.sd)]; })));
      }
      box.appendChild(el('h3', { text: 'Segmentation model' }));
      box.appendChild(kv([['File', m.segmentation.file + (m.segmentation.present ? '' : ' (missing)')]]));
      // The card's Markdown, parsed on the server into blocks of text spans (src/admin/markdown.ts), built with el().
      if (m.segmentation.cardBlocks) box.appendChild(markdownNode(m.segmentation.cardBlocks));
    }).catch(function () {});
  }

  function selectTab(tab) {
    currentTab = tab;
    document.querySelectorAll('.tab').forEach(function (b) { b.classList.toggle('active', b.getAttribute('data-tab') === tab); });
    document.querySelectorAll('.tab-body').forEach(function (s) { s.hidden = s.id !== 'tab-' + tab; });
    refresh();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var sel = $('f-state');
    STATES.forEach(function (s) { sel.appendChild(el('option', { value: s, text: s })); });
    ['f-state', 'f-flagged', 'f-since'].forEach(function (id) { $(id).addEventListener('change', refresh); });
    document.querySelectorAll('.tab').forEach(function (b) { b.addEventListener('click', function () { selectTab(b.getAttribute('data-tab')); }); });
    $('retry-all').addEventListener('click', function () { act('POST', '/api/outbox/retry', 'Dead-letter outputs re-queued'); });
    $('logout').addEventListener('click', function () { signOut(''); });
    $('login-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      token = $('token').value.trim();
      fetch('/api/overview', { headers: { authorization: 'Bearer ' + token } }).then(function (r) {
        if (!r.ok) { $('login-error').textContent = r.status === 401 ? 'Wrong token.' : 'HTTP ' + r.status; token = ''; return; }
        sessionStorage.setItem(TOKEN_KEY, token);
        $('token').value = '';
        start();
      }).catch(function (e) { $('login-error').textContent = e.message; });
    });
    if (token) start(); else signOut('');
  });
})();
`;
