/** CSV reading and writing shared by the CLIs (features, cohort, train, score) and the tests. */

/** RFC 4180 CSV parsing (quotes, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQ = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (inQ) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQ = false;
      } else field += c;
    } else if (c === '"') inQ = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
  }
  return rows;
}

/** One CSV field, quoted when it holds a quote, comma or line break. */
export const csvField = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Header + rows as CSV text (empty cell for null/undefined, NaN for non-finite numbers). */
export function formatCsv(header: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  const fmt = (v: string | number | boolean | null | undefined) =>
    v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'NaN') : csvField(String(v));
  return [header.map(csvField).join(','), ...rows.map((r) => r.map(fmt).join(','))].join('\n') + '\n';
}
