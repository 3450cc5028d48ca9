import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../common/command.js';
import { UsageError, parseOptions } from '../common/command.js';
import { loadConfig } from '../config/load.js';
import type { CampaignView } from './campaign.js';

const ACTIONS = ['start', 'status', 'pause', 'resume', 'cancel', 'export'];

/** A text progress bar: `[#########.........] 45% 90/200`. */
export function progressBar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${(f * 100).toFixed(0).padStart(3)}% ${done}/${total}`;
}

function fmtSeconds(s: number | null): string {
  if (s === null) return '?';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** One line per campaign: state, bar, counts, pace, ETA, reason. */
export function statusLine(c: CampaignView): string {
  const k = c.counts;
  return [
    `campaign ${c.id} ${c.state.padEnd(9)} ${progressBar(c.done, c.total)}`,
    `found ${k.found} retrieving ${k.retrieving} retrieved ${k.retrieved} analysed ${k.analysed} skipped ${k.skipped} failed ${k.failed}`,
    `pace ${c.ratePerHour === null ? '?' : c.ratePerHour}/h eta ${fmtSeconds(c.etaSeconds)}${c.queryComplete ? '' : ` (querying from ${c.queryCursor})`}`,
    c.reason ? `(${c.reason})` : '',
  ]
    .join('  ')
    .trimEnd();
}

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'retrospective campaigns: retrieve and analyse past lumbar MRI from the PACS (talks to the running service)',
  help: `Usage: osteoscreen backfill start --source SRC --from DATE --to DATE [--description RE] [--body-part RE] [--retrieve move|get] [--send-to-pacs] [--watch]
       osteoscreen backfill status [ID] [--watch]
       osteoscreen backfill pause|resume|cancel ID
       osteoscreen backfill export ID [--state STATE]          (the worklist CSV on stdout)

Talks to the running service's admin API (POST /api/backfill, GET /api/backfill/<id>, ...) with the admin token.
  --source SRC        the PACS: AET@host:port (C-FIND, then C-MOVE to this service's AE title, which the PACS must
                      know as a DICOM node, or C-GET: see --retrieve) or a DICOMweb base URL (QIDO-RS + WADO-RS;
                      credentials in backfill.dicomweb)
  --retrieve M        DIMSE sources: move (C-MOVE to this service's AE title) or get (C-GET: the instances come
                      back on our own association: the PACS does not connect to this service); default backfill.retrieve
  --from, --to DATE   study date range, YYYYMMDD or YYYY-MM-DD (inclusive)
  --description RE    only studies whose description matches this regex (case-insensitive)
  --body-part RE      only studies whose body part (study or a series) matches this regex
  --send-to-pacs      also send the SR / summary image into the PACS (default: webhook, FHIR, HL7 and the
                      worklist CSV only; old studies get no new series)
  --watch             redraw the progress bar every 2 s until the campaign is done, cancelled or paused
  --url URL           the admin API (default http://127.0.0.1:<http.port>)
  --token T           the admin token (default OSTEOSCREEN_HTTP_TOKEN, http.token, or <storage.dir>/admin-token)
  --config FILE       the service's config file (for the port, token and data folder)
Pacing, window and retention: config section backfill (README, "Backfill").`,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        source: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        description: { type: 'string' },
        'body-part': { type: 'string' },
        'send-to-pacs': { type: 'boolean' },
        retrieve: { type: 'string' },
        watch: { type: 'boolean' },
        url: { type: 'string' },
        token: { type: 'string' },
        config: { type: 'string' },
        state: { type: 'string' },
      },
      true,
    );
    const [action = 'status', id] = positionals;
    if (!ACTIONS.includes(action)) throw new UsageError(`unknown action "${action}" (${ACTIONS.join(', ')})`);
    if (['pause', 'resume', 'cancel', 'export'].includes(action) && !/^\d+$/.test(id ?? '')) throw new UsageError(`${action} needs a campaign ID (see \`osteoscreen backfill status\`)`);
    const config = loadConfig({ file: values.config });
    const base = (values.url ?? `http://127.0.0.1:${config.http.port}`).replace(/\/+$/, '');
    const tokenFile = path.join(config.storage.dir, 'admin-token');
    const token = values.token ?? (config.http.token || (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : ''));
    if (!token) throw new Error(`no admin token: pass --token, set OSTEOSCREEN_HTTP_TOKEN, or run where ${tokenFile} is readable`);
    const call = async (method: string, p: string, body?: unknown): Promise<Response> => {
      let r: Response;
      try {
        r = await fetch(base + p, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      } catch (e) {
        throw new Error(`cannot reach the service at ${base}: ${(e as Error).message} (is \`osteoscreen serve\` running? --url)`);
      }
      if (!r.ok) {
        const text = await r.text();
        let msg = text;
        try {
          msg = (JSON.parse(text) as { error?: string; message?: string }).message ?? (JSON.parse(text) as { error?: string }).error ?? text;
        } catch {
          /* text */
        }
        throw new Error(`${method} ${p}: HTTP ${r.status}: ${msg}`);
      }
      return r;
    };
    const watch = async (cid: number) => {
      const tty = process.stdout.isTTY;
      for (;;) {
        const c = (await (await call('GET', `/api/backfill/${cid}`)).json()) as CampaignView;
        process.stdout.write(tty ? `\r\x1b[K${statusLine(c)}` : `${statusLine(c)}\n`);
        if (c.state !== 'running') {
          if (tty) process.stdout.write('\n');
          return c.state === 'done' ? 0 : 1;
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    if (action === 'start') {
      if (!values.source || !values.from || !values.to) throw new UsageError('start needs --source, --from and --to');
      if (values.retrieve !== undefined && values.retrieve !== 'move' && values.retrieve !== 'get') throw new UsageError(`--retrieve must be move or get, got "${values.retrieve}"`);
      const body = { source: values.source, studyDateFrom: values.from, studyDateTo: values.to, descriptionFilter: values.description, bodyPartFilter: values['body-part'], sendToPacs: Boolean(values['send-to-pacs']), retrieve: values.retrieve };
      const c = (await (await call('POST', '/api/backfill', body)).json()) as CampaignView;
      process.stdout.write(`started campaign ${c.id} (${c.source}${c.query.retrieve ? ` by C-${c.query.retrieve.toUpperCase()}` : ''}, ${c.query.studyDateFrom}-${c.query.studyDateTo})\n`);
      return values.watch ? watch(c.id) : 0;
    }
    if (action === 'status') {
      if (id) {
        if (values.watch) return watch(Number(id));
        const c = (await (await call('GET', `/api/backfill/${id}`)).json()) as CampaignView;
        process.stdout.write(statusLine(c) + '\n');
        return 0;
      }
      const list = (await (await call('GET', '/api/backfill')).json()) as CampaignView[];
      if (!list.length) process.stdout.write('no backfill campaigns\n');
      for (const c of list) process.stdout.write(statusLine(c) + '\n');
      return 0;
    }
    if (action === 'export') {
      const r = await call('GET', `/api/backfill/${id}/worklist.csv${values.state ? `?state=${encodeURIComponent(values.state)}` : ''}`);
      process.stdout.write(await r.text());
      return 0;
    }
    const c = (await (await call('POST', `/api/backfill/${id}/${action}`)).json()) as CampaignView;
    process.stdout.write(statusLine(c) + '\n');
    return 0;
  },
};
