/**
 * The admin page: one HTML file, one stylesheet, one script, all served by the service itself
 * (no build step, no CDN, works offline). The script talks to the JSON API with the bearer token the
 * admin types in (kept in sessionStorage of that tab only). All data is inserted with textContent (the model
 * card too: the server parses its Markdown into plain blocks, src/admin/markdown.ts).
 * Parts live beside it: page-style.ts (the stylesheet), page-detail.ts (study detail panel), page-tabs.ts (drift,
 * outbox, audit, model tabs), page-calibration.ts, page-destinations.ts and page-format.ts (number formatting).
 */
import { PAGE_FORMAT_JS } from './page-format.js';
import { PAGE_CALIBRATION_JS, PAGE_CALIBRATION_TAB, PAGE_CALIBRATION_SECTION } from './page-calibration.js';
import { PAGE_BACKFILL_JS, PAGE_BACKFILL_TAB, PAGE_BACKFILL_SECTION } from '../backfill/page.js';
import { DESTINATIONS_HTML } from './page-destinations.js';
import { PAGE_DETAIL_JS } from './page-detail.js';
import { PAGE_TABS_JS } from './page-tabs.js';
import { PAGE_PERFORMANCE_JS, PAGE_PERFORMANCE_TAB, PAGE_PERFORMANCE_SECTION } from './page-performance.js';
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
    ${PAGE_PERFORMANCE_TAB}
    <button class="tab" data-tab="model">Model &amp; config</button>
    <button class="tab" data-tab="outbox">Outbox</button>
    <button class="tab" data-tab="audit">Audit log</button>
    ${PAGE_BACKFILL_TAB}
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
${PAGE_PERFORMANCE_SECTION}

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

${PAGE_BACKFILL_SECTION}

  <section id="tab-audit" class="tab-body" hidden>
    <table id="audit" class="grid"><thead><tr><th>When</th><th>Who (token id)</th><th>IP</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead><tbody></tbody></table>
  </section>
</main>
</body>
</html>
`;

export { PAGE_CSS } from './page-style.js';

export const PAGE_JS = "'use strict';\n" + PAGE_FORMAT_JS + '\n(function () {\n' + PAGE_CALIBRATION_JS + PAGE_BACKFILL_JS + String.raw`
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

${PAGE_DETAIL_JS}
${PAGE_TABS_JS}
${PAGE_PERFORMANCE_JS}
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
    initBackfillForm();
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
