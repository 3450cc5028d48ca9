/**
 * The admin page's Backfill tab: start a campaign, and per campaign its progress bar, counts, pace, ETA, the reason
 * it waits, pause / resume / cancel. Runs inside page.ts's closure (el, api, act, table, fmtTime, …); all data
 * goes in with textContent. The worklist CSV comes from the API / CLI (it needs the bearer token).
 */

export const PAGE_BACKFILL_TAB = `<button class="tab" data-tab="backfill">Backfill</button>`;

export const PAGE_BACKFILL_SECTION = `
  <section id="tab-backfill" class="tab-body" hidden>
    <form id="bf-form" class="filters">
      <label>Source <input id="bf-source" placeholder="PACS@host:104 or the DICOMweb root URL" size="34" required></label>
      <label>From <input id="bf-from" type="date" required></label>
      <label>To <input id="bf-to" type="date" required></label>
      <label>Description regex <input id="bf-desc" placeholder="lumb|LWS" size="12"></label>
      <label>Retrieve <select id="bf-retrieve"><option value="">default</option><option value="move">C-MOVE</option><option value="get">C-GET</option></select></label>
      <label><input id="bf-pacs" type="checkbox"> also SR into the PACS</label>
      <button type="submit">Start campaign</button>
    </form>
    <p class="muted">Results go to the webhook, FHIR, HL7 and the worklist export (GET /api/backfill/&lt;id&gt;/worklist.csv,
      <code>osteoscreen backfill export ID</code>); pacing: config section backfill.</p>
    <div id="backfill"></div>
  </section>`;

export const PAGE_BACKFILL_CSS = `
.bf-card { background:#fff; border:1px solid var(--line); padding:8px 12px; margin-bottom:10px; }
.bf-bar { height:12px; background:#eee; border:1px solid var(--line); margin:6px 0; }
.bf-bar > div { height:100%; background: var(--info); }
`;

export const PAGE_BACKFILL_JS = String.raw`
  function fmtDuration(s) { if (s === null || s === undefined) return '—'; if (s < 90) return Math.round(s) + ' s'; if (s < 5400) return Math.round(s / 60) + ' min'; return (s / 3600).toFixed(1) + ' h'; }
  function refreshBackfill() {
    return api('/api/backfill').then(function (list) {
      var box = clear($('backfill'));
      if (!list.length) box.appendChild(el('p', { class: 'muted', text: 'No campaigns yet.' }));
      list.forEach(function (c) {
        var card = el('div', { class: 'bf-card', 'data-campaign': c.id, 'data-state': c.state });
        card.appendChild(el('h3', {}, ['Campaign ' + c.id + ' ', badge(c.state), el('span', { class: 'muted', text: ' ' + c.source + ', ' + c.query.studyDateFrom + '–' + c.query.studyDateTo + (c.query.retrieve ? ', C-' + c.query.retrieve.toUpperCase() : '') + (c.sendToPacs ? ', SR into the PACS' : '') })]));
        var pct = c.total ? Math.round(100 * c.done / c.total) : 0;
        card.appendChild(el('div', { class: 'bf-bar', title: c.done + ' / ' + c.total }, [el('div', { style: 'width:' + pct + '%' })]));
        var k = c.counts;
        card.appendChild(el('p', { text: c.done + ' / ' + c.total + ' (' + pct + ' %) — found ' + k.found + ', retrieving ' + k.retrieving + ', retrieved ' + k.retrieved + ', analysed ' + k.analysed + ', skipped ' + k.skipped + ', failed ' + k.failed }));
        card.appendChild(el('p', { class: 'bf-pace', text: 'Pace ' + (c.ratePerHour === null ? '—' : fmtNum(c.ratePerHour, 1) + ' studies/h') + ' · ETA ' + fmtDuration(c.etaSeconds) + ' · mean retrieval ' + (c.meanRetrieveSeconds === null ? '—' : fmtNum(c.meanRetrieveSeconds, 1) + ' s') + (c.queryComplete ? '' : ' · querying from ' + c.queryCursor) }));
        if (c.reason) card.appendChild(el('p', { class: 'reason', text: c.reason }));
        var actions = el('div', { class: 'actions' });
        if (c.state === 'running') actions.appendChild(el('button', { 'data-action': 'bf-pause', text: 'Pause', onclick: function () { act('POST', '/api/backfill/' + c.id + '/pause', 'Paused campaign ' + c.id); } }));
        if (c.state === 'paused') actions.appendChild(el('button', { 'data-action': 'bf-resume', text: 'Resume', onclick: function () { act('POST', '/api/backfill/' + c.id + '/resume', 'Resumed campaign ' + c.id); } }));
        if (c.state === 'running' || c.state === 'paused') actions.appendChild(el('button', { 'data-action': 'bf-cancel', text: 'Cancel', onclick: function () { if (confirm('Cancel campaign ' + c.id + '? Studies not retrieved yet are skipped.')) act('POST', '/api/backfill/' + c.id + '/cancel', 'Cancelled campaign ' + c.id); } }));
        card.appendChild(actions);
        box.appendChild(card);
      });
    });
  }
  function initBackfillForm() {
    var f = $('bf-form');
    if (!f) return;
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = { source: $('bf-source').value, studyDateFrom: $('bf-from').value, studyDateTo: $('bf-to').value, sendToPacs: $('bf-pacs').checked };
      if ($('bf-desc').value) body.descriptionFilter = $('bf-desc').value;
      if ($('bf-retrieve').value) body.retrieve = $('bf-retrieve').value;
      act('POST', '/api/backfill', 'Started a campaign', body);
    });
  }
`;
