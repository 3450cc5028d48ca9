/**
 * Admin page parts for calibration (kept out of page.ts, which is long enough): the "no flag" result cell
 * (uncalibrated model / out-of-range terms). The script parts run inside page.ts's closure and use its helpers
 * (el, api, table, fmtPeople, …); all data goes in with textContent.
 */

export const PAGE_CALIBRATION_CSS = `
.noflag { font-weight:bold; color: var(--warn); }
`;

export const PAGE_CALIBRATION_JS = String.raw`
  /** The words for a scored study without a flag (never red/green). */
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
