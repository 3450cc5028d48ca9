/**
 * The admin page's per-destination panel (Outbox tab): one row per configured destination (DICOM, STOW-RS,
 * webhook, HL7 v2, FHIR) and per key that still has rows but is no longer configured, from GET /api/outbox/destinations.
 * DESTINATIONS_JS runs inside the page script (it uses its el / api / badge / fmtTime / clear helpers).
 */
export const DESTINATIONS_HTML = `<h3>Destinations</h3>
    <table id="destinations" class="grid"><thead><tr><th>Destination</th><th>Kind</th><th>State</th><th>Pending</th><th>Sent</th><th>Dead-letter</th><th>Last sent</th><th>Next attempt</th><th>Newest error</th></tr></thead><tbody></tbody></table>
    <h3>Outputs</h3>`;

export const DESTINATIONS_JS = String.raw`
  function refreshDestinations() {
    return api('/api/outbox/destinations').then(function (rows) {
      var tb = clear(document.querySelector('#destinations tbody'));
      if (!rows.length) tb.appendChild(el('tr', {}, [el('td', { colspan: 9, class: 'muted', text: 'No destination configured (output.destinations, output.stow, output.webhooks, output.hl7, output.fhir).' })]));
      rows.forEach(function (d) {
        tb.appendChild(el('tr', { 'data-destination': d.destination }, [
          el('td', { class: 'uid', text: d.destination }), el('td', { text: d.kind }), el('td', {}, [badge(d.state)]),
          el('td', { class: 'num', text: d.pending }), el('td', { class: 'num', text: d.sent }), el('td', { class: 'num', text: d.deadLetter }),
          el('td', { text: fmtTime(d.lastSentAt) }), el('td', { text: fmtTime(d.nextAttemptAt) }),
          el('td', { class: 'reason', text: d.lastError ? d.lastError + ' (' + fmtTime(d.lastErrorAt) + ')' : '' })]));
      });
    });
  }
  /** #study=<uid> (the link in webhook bodies) opens that study's detail. */
  function openLinkedStudy() {
    var m = /^#study=(.+)$/.exec(location.hash);
    if (m) showDetail(decodeURIComponent(m[1]));
  }
`;

export const DESTINATIONS_CSS = `
.badge[data-state=ok] { background: var(--ok); }
.badge[data-state=dead-letters], .badge[data-state=unconfigured] { background: var(--bad); }
.badge[data-state=retrying] { background: var(--warn); }
.badge[data-state=sending] { background: var(--info); }
`;
