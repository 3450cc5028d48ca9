/**
 * The admin page's study detail panel (Jobs tab): series and selection, segmentation QA, the features used,
 * outputs and jobs of one study, and the kv / table builders the other tabs use too. Runs inside the page
 * script's closure (src/admin/page.ts: el, api, act, badge, fmt… helpers); all data goes in with textContent.
 */
export const PAGE_DETAIL_JS = String.raw`  // ------------------------------------------------------------------ detail
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
`;
