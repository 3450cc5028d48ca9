/**
 * The admin page's other tabs: drift, outbox (with the destinations panel and housekeeping), audit log, and the
 * model & config tab loaded once after sign-in. Runs inside the page script's closure (src/admin/page.ts);
 * all data goes in with textContent.
 */
import { DESTINATIONS_JS } from './page-destinations.js';

export const PAGE_TABS_JS = String.raw`  // ------------------------------------------------------------------ other tabs
  function refreshTab(tab) {
    if (tab === 'drift') return refreshDrift();
    if (tab === 'calibration') return refreshCalibration();
    if (tab === 'performance') return refreshPerformance();
    if (tab === 'outbox') return refreshOutbox();
    if (tab === 'audit') return refreshAudit();
    if (tab === 'backfill') return refreshBackfill();
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
`;
