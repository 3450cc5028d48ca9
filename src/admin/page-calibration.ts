/**
 * Admin page parts for calibration (kept out of page.ts, which is long enough): the Calibration tab (per-scanner
 * proposals with SVG histograms, approve / dismiss) and the "no flag" result cell (uncalibrated model /
 * out-of-range terms). The script parts run inside page.ts's closure and use its helpers
 * (el, api, table, fmtPeople, …); all data goes in with textContent.
 */

export const PAGE_CALIBRATION_TAB = `<button class="tab" data-tab="calibration">Calibration <span id="calibration-count" class="badge warn" hidden></span></button>`;

export const PAGE_CALIBRATION_SECTION = `
  <section id="tab-calibration" class="tab-body" hidden>
    <p class="muted" id="calibration-help"></p>
    <div id="calibration"></div>
  </section>`;

export const PAGE_CALIBRATION_CSS = `
.noflag { font-weight:bold; color: var(--warn); }
.cal-card { background:#fff; border:1px solid var(--line); padding:8px 12px; margin-bottom:10px; }
.cal-card[data-state=proposal] { border-color: var(--info); }
.cal-card img.hist { display:block; width:260px; height:96px; }
.cal-card .actions { display:flex; gap:8px; margin:8px 0; }
`;

export const PAGE_CALIBRATION_JS = String.raw`
  /** Overview: the Calibration tab's badge and a chip per scanner with a proposal waiting. */
  function showCalibrationProposals(o, box) {
    var list = o.calibrationProposals || [];
    var cc = $('calibration-count');
    cc.hidden = !list.length;
    cc.textContent = String(list.length);
    if (list.length) box.appendChild(el('span', { class: 'chip warn', text: 'calibration proposal to review: ' + list.join(', ') }));
  }
  function pct(x) { return x === null || x === undefined ? '—' : (100 * x).toFixed(0) + ' %'; }
  function refreshCalibration() {
    return api('/api/calibration').then(function (r) {
      var dm = r.defaultModel;
      $('calibration-help').textContent = 'Per scanner (manufacturer / model / station): after ' + r.minStudies +
        ' assessable studies the default model' + (dm ? ' (' + dm.name + ' ' + dm.version + ', ' + dm.normalisation + ' normalisation)' : '') +
        ' is re-normalised on the own studies of that scanner with ' + r.statisticsText + '; coefficients, intercept and cut-off are kept. ' +
        'Approve to score the studies of that scanner with it from the next study on (new model version and hash, new output series), or dismiss. ' +
        'Histograms: the site values (bars), the model mean ± 1 SD (shaded, dashed line), the proposed median (green line).';
      var box = clear($('calibration'));
      if (!r.scanners.length) box.appendChild(el('p', { class: 'muted', text: 'No assessable studies yet.' }));
      r.scanners.forEach(function (s) { box.appendChild(calibrationCard(s)); });
    });
  }
  function calibrationCard(s) {
    var card = el('div', { class: 'cal-card', 'data-scanner-id': s.scannerId, 'data-state': s.state });
    card.appendChild(el('h3', {}, [s.scanner + ' ', el('span', { class: 'badge', 'data-cal-state': s.state, text: s.state }),
      el('span', { class: 'muted', text: ' ' + s.studies + ' assessable studies' + (s.studiesNeeded ? ', ' + s.studiesNeeded + ' more before a proposal' : '') })]));
    var a = s.active;
    if (a) card.appendChild(el('p', { class: 'muted', 'data-active-model': a.source, text: 'Active model: ' + (a.source === 'default' ? 'default ' : 'scanner calibration ') +
      (a.name || '') + ' ' + (a.version || '') + (a.approvedAt ? ', approved ' + fmtTime(a.approvedAt) + ' by ' + a.approvedBy + ' on ' + a.n + ' studies' : '') + (a.error ? ' — ERROR: ' + a.error : '') }));
    var p = s.proposal;
    if (p && p.error) card.appendChild(el('p', { class: 'error', text: 'The proposal could not be computed: ' + p.error }));
    if (!p || p.error) return card;
    var cur = p.flagRate.current, prop = p.flagRate.proposed;
    card.appendChild(kv([
      ['Proposed model', p.model.name + ' ' + p.model.version],
      ['Hash', el('span', { class: 'uid', text: p.model.hash })],
      ['Studies', String(p.n) + (p.excluded ? ' (' + p.excluded + ' without every term left out)' : '')],
      ['Flag rate now', pct(cur.flagRate) + ' flagged, ' + pct(cur.noFlagRate) + ' no flag (' + cur.model.name + ' ' + cur.model.version + '; ' + pct(cur.aboveCutoffRate) + ' above the cut-off)'],
      ['Flag rate proposed', pct(prop.flagRate) + ' flagged, ' + pct(prop.noFlagRate) + ' no flag (' + prop.outOfRange + ' out of range)'],
      ['Cut-off', 'kept: abnormal if radscore > ' + p.model.cutoff],
      ['Warnings', p.warnings.length ? p.warnings.join('; ') : undefined],
    ]));
    card.appendChild(table(['Seq', 'Feature', 'Site median', 'Site robust SD', 'Model mean', 'Model SD', 'Site median (model z)', 'Histogram'], p.terms.map(function (t) {
      var img = t.histogramSvg ? el('img', { class: 'hist', alt: 'histogram ' + t.sequence + ' ' + t.feature, src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(t.histogramSvg) }) : '—';
      return [t.sequence, t.feature, fmtPeople(t.site.median), fmtPeople(t.site.robustSd), fmtPeople(t.model.mean), fmtPeople(t.model.sd),
        el('span', { class: Math.abs(t.shiftZ) > 2 ? 'z-warn' : '', text: fmtNum(t.shiftZ, 2) }), img];
    })));
    card.appendChild(el('div', { class: 'actions' }, [
      el('button', { 'data-action': 'calibration-approve', text: 'Approve calibration', onclick: function () {
        if (confirm('Approve the calibration of ' + s.scanner + ' (' + p.n + ' studies)? Its studies will be scored with ' + p.model.name + ' ' + p.model.version + ' from the next study on.'))
          act('POST', '/api/calibration/' + s.scannerId + '/approve', 'Calibration approved', { expectStudies: s.studies });
      } }),
      el('button', { 'data-action': 'calibration-dismiss', text: 'Dismiss', onclick: function () {
        if (confirm('Dismiss this proposal? It comes back after another ' + p.n + ' studies at the earliest.'))
          act('POST', '/api/calibration/' + s.scannerId + '/dismiss', 'Proposal dismissed', { expectStudies: s.studies });
      } }),
      el('a', { href: '#', 'data-action': 'calibration-csv', text: 'features CSV', onclick: function (ev) {
        ev.preventDefault();
        api('/api/calibration/' + s.scannerId + '/features.csv', { raw: true }).then(function (res) { return res.blob(); }).then(function (b) {
          var u = URL.createObjectURL(b); var l = el('a', { href: u, download: p.features.name }); document.body.appendChild(l); l.click(); l.remove();
        });
      } }),
    ]));
    return card;
  }

  /** The jobs table's result cell: the flag (red/green), or for a scored study without one, why (never red/green). */
  function resultCell(s) {
    if (s.flag === true || s.flag === false) {
      return el('td', {}, [
        el('span', { class: 'flag ' + (s.flag ? 'yes' : 'no'), 'data-flag': String(s.flag), text: s.flag ? 'FLAGGED' : 'not flagged' }),
        el('div', { class: 'muted', text: 'score ' + fmtScore(s.score, s.cutoff) + (s.calibrated === false ? ', uncalibrated' : '') }),
      ]);
    }
    if (s.score !== null && s.score !== undefined) return noFlagCell(s);
    return el('td', { class: 'muted', text: '—' });
  }
  /** The words for a scored study without a flag. */
  function noFlagTitle(s) {
    var k = s.noFlagKinds || [];
    if (k.indexOf('uncalibrated') >= 0) return 'not interpretable until calibrated for this site';
    if (k.indexOf('out-of-range') >= 0) return 'no flag: outside the model\'s calibrated range';
    return 'no flag';
  }
  function noFlagCell(s) {
    return el('td', {}, [
      el('span', { class: 'noflag', 'data-flag': 'none', text: noFlagTitle(s) }),
      el('div', { class: 'muted', text: 'score ' + fmtPeople(s.score) + ' (information only, cut-off not applied)' }),
      s.flagSuppressed ? el('div', { class: 'muted reason', 'data-noflag-reason': '', text: s.flagSuppressed }) : null,
    ]);
  }
`;
