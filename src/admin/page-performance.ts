/**
 * Admin page tab "Performance" (issue 26): per scanner and model version the screening performance against matched
 * DXA results (n per class, AUC with DeLong CI, sensitivity / specificity / PPV / NPV with CIs at the cut-off in
 * use, Hosmer–Lemeshow, rolling windows) with the ROC and calibration charts (SVG from the server, the research
 * report's chart code, shown as images), the labelled cut-off proposals (approve through the calibration approval
 * flow), and the unmatched DXA results with the reason. Runs inside page.ts's closure (el, api, table, kv, act, …);
 * all data goes in with textContent.
 */

export const PAGE_PERFORMANCE_TAB = `<button class="tab" data-tab="performance">Performance</button>`;

export const PAGE_PERFORMANCE_SECTION = `
  <section id="tab-performance" class="tab-body" hidden>
    <p class="muted" id="performance-help"></p>
    <div id="performance"></div>
    <h3>Labelled cut-off proposals</h3>
    <div id="performance-proposals"></div>
    <h3>Studies with more than one DXA result in the window (the nearest labels the study)</h3>
    <table id="dxa-choices" class="grid"><thead><tr><th>Study</th><th>Scanner</th><th>MRI date</th><th>DXA used</th><th>Days</th><th>Label</th><th>Choice</th></tr></thead><tbody></tbody></table>
    <h3>DXA results not matched to a screened study</h3>
    <p class="muted" id="outcomes-counts"></p>
    <table id="unmatched" class="grid"><thead><tr><th>Patient</th><th>Issuer</th><th>DXA date</th><th>Source</th><th>Why not matched</th></tr></thead><tbody></tbody></table>
  </section>`;

export const PAGE_PERFORMANCE_CSS = `
.perf-card { background:#fff; border:1px solid var(--line); padding:8px 12px; margin-bottom:10px; }
.perf-card .charts { display:flex; gap:12px; flex-wrap:wrap; }
.perf-card .charts img { width:360px; height:340px; }
`;

export const PAGE_PERFORMANCE_JS = String.raw`
  function ciText(v, c, digits) {
    if (v === null || v === undefined) return '—';
    return fmtNum(v, digits || 3) + (c ? ' (' + fmtNum(c[0], digits || 3) + '–' + fmtNum(c[1], digits || 3) + ')' : '');
  }
  function svgImg(svg, alt) { return el('img', { alt: alt, src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg) }); }
  function refreshPerformance() {
    return Promise.all([api('/api/performance?svg=true'), api('/api/performance/proposals'), api('/api/outcomes?limit=5000')]).then(function (r) {
      var groups = r[0], props = r[1], oc = r[2];
      $('performance-help').textContent = 'Scored studies labelled by a DXA of the same patient within ± ' + oc.windowDays + ' days (the nearest wins). Label: T-score ≤ ' + oc.rule.tScoreAbnormalAtOrBelow +
        ' (women and anyone older than ' + oc.rule.tScoreAgeOver + '), else Z-score < ' + oc.rule.zScoreAbnormalBelow + '. AUC with DeLong 95 % CI; sensitivity, specificity, PPV and NPV at the cut-off in use with Wilson 95 % CIs.';
      var box = clear($('performance'));
      if (!groups.length) box.appendChild(el('p', { class: 'muted', text: 'No labelled studies yet: import DXA results (CSV, HL7 v2 or POST /api/outcomes).' }));
      groups.forEach(function (g) {
        var card = el('div', { class: 'perf-card', 'data-scanner-id': g.scannerId, 'data-model-version': g.modelVersion });
        card.appendChild(el('h3', {}, [g.scanner + ' ', el('span', { class: 'muted', text: g.modelName + ' ' + g.modelVersion })]));
        card.appendChild(kv([
          ['Labelled studies', g.n + ' (' + g.nAbnormal + ' abnormal, ' + g.nNormal + ' normal), MRI ' + (g.firstStudyDate || '') + ' to ' + (g.lastStudyDate || '')],
          ['AUC', el('span', { 'data-metric': 'auc', text: ciText(g.auc, g.aucCi) })],
          ['Cut-off in use', 'abnormal if radscore > ' + g.cutoff],
          ['Sensitivity', el('span', { 'data-metric': 'sensitivity', text: ciText(g.sensitivity, g.sensitivityCi) })],
          ['Specificity', el('span', { 'data-metric': 'specificity', text: ciText(g.specificity, g.specificityCi) })],
          ['PPV / NPV', ciText(g.ppv, g.ppvCi) + ' / ' + ciText(g.npv, g.npvCi)],
          ['Hosmer–Lemeshow', g.hosmerLemeshow ? 'χ² ' + fmtNum(g.hosmerLemeshow.statistic, 2) + ', df ' + g.hosmerLemeshow.df + ', P ' + fmtNum(g.hosmerLemeshow.p, 3) + ' (' + g.hosmerLemeshow.method + ')' : '—'],
          ['Notes', g.problems.length ? g.problems.join('; ') : undefined],
        ]));
        var charts = el('div', { class: 'charts' });
        if (g.rocSvg) charts.appendChild(svgImg(g.rocSvg, 'ROC curve ' + g.scanner));
        if (g.calibrationSvg) charts.appendChild(svgImg(g.calibrationSvg, 'calibration plot ' + g.scanner));
        card.appendChild(charts);
        card.appendChild(el('h4', { text: 'Rolling windows of ' + g.windowDays + ' days (MRI date)' }));
        card.appendChild(table(['From', 'To', 'n', 'Abnormal', 'AUC (95 % CI)', 'Sensitivity', 'Specificity'], g.windows.map(function (w) {
          return [w.from, w.to, w.n, w.nAbnormal, ciText(w.auc, w.aucCi), ciText(w.sensitivity, w.sensitivityCi), ciText(w.specificity, w.specificityCi)];
        })));
        box.appendChild(card);
      });
      var pb = clear($('performance-proposals'));
      if (!props.scanners.length) pb.appendChild(el('p', { class: 'muted', text: 'A proposal needs ' + props.minLabelled + ' labelled studies of one scanner, at least ' + props.minPerClass + ' per class.' }));
      props.scanners.forEach(function (s) {
        var card = el('div', { class: 'perf-card', 'data-proposal-scanner-id': s.scannerId, 'data-state': s.state });
        card.appendChild(el('h3', {}, [s.scanner + ' ', el('span', { class: 'badge', 'data-proposal-state': s.state, text: s.state })]));
        if (s.error) { card.appendChild(el('p', { class: 'error', text: s.error })); pb.appendChild(card); return; }
        card.appendChild(el('p', { class: 'muted', text: s.labelled + ' labelled (' + s.nAbnormal + ' abnormal, ' + s.nNormal + ' normal); active model ' + s.active.name + ' ' + s.active.version + ', cut-off ' + s.active.cutoff +
          (s.state === 'collecting' ? '; needed: ' + s.needed.labelled + ' more labelled, ' + s.needed.abnormal + ' more abnormal, ' + s.needed.normal + ' more normal' : '') }));
        var p = s.proposal;
        if (p) {
          card.appendChild(table(['', 'Cut-off', 'Sensitivity (95 % CI)', 'Specificity (95 % CI)', 'PPV', 'NPV'], [
            ['today (' + p.current.model.version + ')', p.current.cutoff, ciText(p.current.sensitivity.value, p.current.sensitivity.ci), ciText(p.current.specificity.value, p.current.specificity.ci), ciText(p.current.ppv.value, p.current.ppv.ci), ciText(p.current.npv.value, p.current.npv.ci)],
            ['proposed (' + p.proposed.model.version + ')', fmtNum(p.proposed.cutoff, 4), ciText(p.proposed.sensitivity.value, p.proposed.sensitivity.ci), ciText(p.proposed.specificity.value, p.proposed.specificity.ci), ciText(p.proposed.ppv.value, p.proposed.ppv.ci), ciText(p.proposed.npv.value, p.proposed.npv.ci)],
          ]));
          card.appendChild(kv([['Method', p.methodText + ' on ' + p.n + ' labelled studies; AUC ' + ciText(p.auc, p.aucCi)], ['Proposed hash', el('span', { class: 'uid', text: p.proposed.model.hash })], ['Research path', el('span', { class: 'uid', text: p.command })], ['Warnings', p.warnings.join('; ')]]));
          card.appendChild(el('div', { class: 'actions' }, [
            el('button', { 'data-action': 'performance-approve', text: 'Approve new cut-off', onclick: function () {
              if (confirm('Approve cut-off ' + fmtNum(p.proposed.cutoff, 4) + ' for ' + s.scanner + '? Its studies will be scored with ' + p.proposed.model.name + ' ' + p.proposed.model.version + ' from the next study on (new output series).'))
                act('POST', '/api/performance/' + s.scannerId + '/approve', 'Labelled cut-off approved', { expectHash: p.proposed.model.hash });
            } }),
          ]));
        }
        pb.appendChild(card);
      });
      var c = oc.counts;
      $('outcomes-counts').textContent = c.outcomes + ' DXA results; ' + c.matchedStudies + ' screened studies matched (' + c.labelledStudies + ' labelled); ' + c.unmatched + ' DXA results unmatched; ' +
        c.studiesWithoutIdentity + ' scored studies without patient identity, ' + c.studiesWithoutDate + ' without a study date.';
      var cb = clear(document.querySelector('#dxa-choices tbody'));
      oc.matches.filter(function (m) { return m.alternatives.length; }).forEach(function (m) {
        cb.appendChild(el('tr', {}, [el('td', { class: 'uid', text: shortUid(m.studyInstanceUid) }), el('td', { text: m.scanner }), el('td', { text: m.studyDate }), el('td', { text: m.dxaDate }),
          el('td', { text: m.days }), el('td', { text: m.label === null ? 'none (' + m.rule + ')' : m.label ? 'abnormal (' + m.rule + ')' : 'normal (' + m.rule + ')' }), el('td', { class: 'reason', text: m.choice })]));
      });
      var tb = clear(document.querySelector('#unmatched tbody'));
      oc.unmatched.forEach(function (u) { tb.appendChild(el('tr', {}, [el('td', { text: u.patientId }), el('td', { text: u.issuer }), el('td', { text: u.dxaDate }), el('td', { text: u.source + (u.sourceRef ? ' ' + u.sourceRef : '') }), el('td', { class: 'reason', text: u.reason })])); });
    });
  }
`;
