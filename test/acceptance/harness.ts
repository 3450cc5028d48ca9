/**
 * Shared helpers of the acceptance (reliability) suite: services whose logs are kept for the suite-wide
 * patient-identifier grep, metric parsing, waiting for jobs, phantom identifiers, file walking.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { waitFor } from '../helpers/ports.js';
import { parseHeader } from '../../src/dicom/tags.js';

/** Every service log of the acceptance suite is written here on stop (and grepped for patient identifiers). */
export const SUITE_LOG_DIR = process.env.OSTEOSCREEN_ACCEPTANCE_LOGS ?? path.join(os.tmpdir(), 'osteoscreen-acceptance-logs');
mkdirSync(SUITE_LOG_DIR, { recursive: true });
// Files of an earlier run (older than 30 min) are not this run's: drop them so a local re-run starts clean.
for (const f of readdirSync(SUITE_LOG_DIR)) {
  const p = path.join(SUITE_LOG_DIR, f);
  if (Date.now() - statSync(p).mtimeMs > 30 * 60_000) rmSync(p, { force: true });
}

export const TERMINAL = ['done', 'not-assessable', 'failed'];

export interface LoggedService extends RunningService {
  name: string;
}

const started: LoggedService[] = [];

/** startService, remembering the service so its whole log can be saved and grepped. */
export async function startLogged(name: string, opts: Parameters<typeof startService>[0] = {}): Promise<LoggedService> {
  const svc = (await startService(opts)) as LoggedService;
  svc.name = name;
  started.push(svc);
  const stop = svc.stop;
  svc.stop = async (signal) => {
    const code = await stop(signal);
    saveLog(svc);
    return code;
  };
  return svc;
}

function saveLog(svc: LoggedService): void {
  writeFileSync(path.join(SUITE_LOG_DIR, `${svc.name}-${svc.proc.pid}.log`), svc.logs());
}

/** Logs of every service this test file started (running or stopped). */
export function fileLogs(): string {
  return started.map((s) => s.logs()).join('\n');
}

/** Stop everything still running (afterAll), saving logs. */
export async function stopAll(): Promise<void> {
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
  for (const s of started) saveLog(s);
}

/** Save an extra log (e.g. a CLI run's stderr) into the suite log folder. */
export function saveExtraLog(name: string, text: string): void {
  writeFileSync(path.join(SUITE_LOG_DIR, `${name}-${process.pid}-${Date.now()}.log`), text);
}

/** All logs saved so far by any acceptance test file. */
export function suiteLogs(): { file: string; text: string }[] {
  return readdirSync(SUITE_LOG_DIR)
    .filter((f) => f.endsWith('.log'))
    .map((f) => ({ file: f, text: readFileSync(path.join(SUITE_LOG_DIR, f), 'utf8') }));
}

/** Patient identifiers (name, ID, birth date, accession, with and without ^) found in DICOM files' headers. */
export function patientIdentifiers(files: string[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    try {
      const ds = parseHeader(readFileSync(f)).dataset as Record<string, any>;
      const name = ds.PatientName;
      const n = typeof name === 'string' ? name : name?.[0]?.Alphabetic ?? name?.Alphabetic;
      for (const v of [n, ds.PatientID, ds.PatientBirthDate, ds.AccessionNumber]) {
        if (typeof v === 'string' && v.trim().length >= 4) {
          out.add(v.trim());
          // Name components too, when distinctive (the synthetic names' components carry digits).
          if (v.includes('^')) for (const part of v.split('^')) if (part.length >= 6 && /\d/.test(part)) out.add(part);
        }
      }
    } catch {
      /* unreadable (e.g. fuzzed): skip */
    }
  }
  return [...out];
}

/** Lines of `text` that contain any identifier. */
export function linesWithIdentifiers(text: string, ids: string[]): string[] {
  return text.split('\n').filter((l) => ids.some((id) => l.includes(id)));
}

export { filesUnder } from '../helpers/files.js';

/** Value of a Prometheus sample (`name{labels}`), summed over matching label sets. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => ls[k] === v)) {
      sum += Number(m[4]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

export async function metricsText(svc: RunningService): Promise<string> {
  return (await apiFresh(svc, '/metrics', { token: null })).text();
}

/** Wait until every listed study has a terminal state; returns the study details. */
export async function waitStudiesTerminal(svc: RunningService, studyUids: string[], timeoutMs: number): Promise<any[]> {
  return waitFor(
    async () => {
      const r = await apiFresh(svc, '/api/studies?limit=5000');
      if (!r.ok) throw new Error(`/api/studies: HTTP ${r.status}`);
      const all = (await r.json()) as any[];
      const byUid = new Map(all.map((s) => [s.studyInstanceUid ?? s.uid, s]));
      const rows = studyUids.map((u) => byUid.get(u));
      return rows.every((r) => r && TERMINAL.includes(r.state)) ? rows : undefined;
    },
    `${studyUids.length} studies to finish`,
    timeoutMs,
    500,
  );
}

/** Peak resident set size (VmHWM, bytes) of a process, from /proc. */
export function peakRss(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) * 1024 : NaN;
}

export function currentRss(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Parse `storescu -v` output into the per-file outcome (file → 'success' | status text), in send order. */
export function storescuOutcomes(out: string): Map<string, string> {
  const res = new Map<string, string>();
  let current: string | undefined;
  for (const line of out.split('\n')) {
    const s = /Sending file: (.+)$/.exec(line);
    if (s) {
      current = s[1]!.trim();
      continue;
    }
    const r = /Received Store Response \(([^)]*)\)/.exec(line);
    if (r && current) {
      res.set(current, r[1] === 'Success' ? 'success' : r[1]!);
      current = undefined;
    }
  }
  return res;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Record the patient identifiers a test file used, for the suite-wide log grep. */
export function recordIdentifiers(name: string, ids: string[]): void {
  writeFileSync(path.join(SUITE_LOG_DIR, `ids-${name}-${process.pid}.json`), JSON.stringify(ids));
}

/** Every identifier recorded so far by any acceptance test file. */
export function suiteIdentifiers(): string[] {
  const out = new Set<string>();
  for (const f of readdirSync(SUITE_LOG_DIR)) if (/^ids-.*\.json$/.test(f)) for (const id of JSON.parse(readFileSync(path.join(SUITE_LOG_DIR, f), 'utf8')) as string[]) out.add(id);
  return [...out];
}

/**
 * `svc.api` that retries a request whose keep-alive socket the server closed while this test process was blocked
 * in spawnSync (undici then reports "other side closed" for the next request on it). HTTP statuses are never retried.
 */
export async function apiFresh(svc: RunningService, p: string, init: Parameters<RunningService['api']>[1] = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await svc.api(p, init);
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      if (attempt >= 3 || !(code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')) throw e;
    }
  }
}

/**
 * The suite-wide patient-identifier grep, run as the last test of every acceptance file: records this file's
 * identifiers, then greps this file's service logs plus every log saved so far by any acceptance file for every
 * identifier any file recorded. Whichever file finishes last therefore greps the logs of the whole suite.
 */
export function offendingLogLines(name: string, ownIds: string[]): string[] {
  recordIdentifiers(name, ownIds);
  const all = [...new Set([...ownIds, ...suiteIdentifiers()])];
  const texts = [{ file: `${name} (running)`, text: fileLogs() }, ...suiteLogs()];
  return texts.flatMap((l) => linesWithIdentifiers(l.text, all).map((line) => `${l.file}: ${line.slice(0, 200)}`));
}
