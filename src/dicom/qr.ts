/**
 * Query/retrieve service class user (dcmjs-dimse), Study Root: C-FIND at study and series level, C-MOVE of
 * series to an AE (our own listener: the instances arrive as C-STOREs and take the normal path), or C-GET of
 * series (the instances arrive as C-STORE sub-operations on our own association and go to a `SubOperationSink`).
 *
 * Every call resolves (never rejects) with `ok`, the DIMSE status, an `error` in words and whether trying again
 * later can help (`retryable`: network errors, time-outs, transient association rejections, out of resources),
 * plus the time the exchange took (`ms`, the PACS's answer time for back-off decisions).
 */
import dimse from 'dcmjs-dimse';
import type { Writable } from 'node:stream';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { describeReject, runAssociation, type ScuDestination } from './scu.js';

dimse.log.setLevel('error');
const log = logger('dicom:qr');
const { Status } = dimse.constants;

export interface QrOutcome {
  ok: boolean;
  status?: number;
  error?: string;
  retryable?: boolean;
  ms: number;
}

/** One C-FIND match, naturalized (keyword -> value; multi-valued attributes as arrays). */
export type Match = Record<string, unknown>;

export interface FindOutcome extends QrOutcome {
  matches: Match[];
}

export interface MoveOutcome extends QrOutcome {
  /** Per requested series: the final sub-operation counts. */
  series: { seriesUid: string; status?: number; completed: number; failed: number; warnings: number; error?: string }[];
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
const isPending = (s: number) => s === Status.Pending || s === 0xff01;

/** Failure statuses where a later retry can help (out of resources, unable to process now). */
export function isRetryableQrStatus(status: number): boolean {
  return (status & 0xff00) === 0xa700 || (status & 0xf000) === 0xc000 || status === 0xfe00;
}

interface Resp {
  getStatus(): number;
  getErrorComment?(): string;
  hasDataset?(): boolean;
  getDataset?(): { getElements(): Match } | undefined;
  getCompleted?(): number;
  getFailures?(): number;
  getWarnings?(): number;
}

/** The parts of dcmjs-dimse's network object (not in its typings) that a C-GET needs to stream sub-operations. */
interface NetworkInternals {
  socket?: { setNoDelay?: (v: boolean) => void; destroy?: () => void };
  on?: (event: 'abort', listener: (a: { source?: number; reason?: number }) => void) => void;
  createStoreWritableStream?: (pc: PresentationContextLike, request: StoreRequestLike) => Writable;
  createDatasetFromStoreWritableStream?: (ws: Writable, pc: PresentationContextLike, cb: (ds: object) => void) => void;
}
interface PresentationContextLike {
  getAbstractSyntaxUid(): string;
  getAcceptedTransferSyntaxUid(): string | undefined;
}
interface StoreRequestLike {
  getAffectedSopClassUid(): string;
  getAffectedSopInstanceUid(): string;
  getDataset(): object | undefined;
}

/** Run requests over one association; `failure` holds why it ended badly (rejected, network, time-out). */
async function exchange(
  dest: ScuDestination,
  requests: InstanceType<typeof dimse.requests.Request>[],
  timeoutMs: number,
  onConnected?: (network: NetworkInternals) => void,
  client = new dimse.Client(),
): Promise<{ failure?: { error: string; retryable: boolean }; ms: number }> {
  for (const r of requests) client.addRequest(r);
  const t0 = Date.now();
  let failure: { error: string; retryable: boolean } | undefined;
  const where = `${dest.aeTitle}@${dest.host}:${dest.port}`;
  // 'connected' fires before the A-ASSOCIATE-RQ is sent; the network object exists from then on.
  client.on('connected', () => {
    const network = (client as unknown as { network?: NetworkInternals }).network;
    network?.socket?.setNoDelay?.(true);
    // An A-ABORT from the PACS (Orthanc aborts a C-GET from an AE it does not allow to get, for one) would
    // otherwise leave the connection open until the time-out: dcmjs-dimse's client does not close it.
    network?.on?.('abort', (a) => {
      failure ??= { error: `association aborted by ${where} (A-ABORT source ${a?.source}, reason ${a?.reason}): the PACS may not allow this AE title the request`, retryable: true };
      network.socket?.destroy?.();
    });
    if (network) onConnected?.(network);
  });
  client.on('associationRejected', (r: { result?: number; source?: number; reason?: number }) => {
    failure = { error: `association rejected by ${where}: ${describeReject(r)}`, retryable: r?.result !== 1 };
  });
  await runAssociation(client, dest, timeoutMs, {
    onTimeout: () => (failure ??= { error: `timed out after ${timeoutMs} ms talking to ${where}`, retryable: true }),
    onNetworkError: (e) => (failure ??= { error: `network error talking to ${where}: ${errorMessage(e)}`, retryable: true }),
    onStartError: (e) => (failure = { error: `cannot start association with ${where}: ${errorMessage(e)}`, retryable: true }),
  });
  return { failure, ms: Date.now() - t0 };
}

async function find(dest: ScuDestination, level: 'STUDY' | 'SERIES', keys: Match, timeoutMs: number): Promise<FindOutcome> {
  const req = level === 'STUDY' ? dimse.requests.CFindRequest.createStudyFindRequest({}) : dimse.requests.CFindRequest.createSeriesFindRequest({});
  // Only the keys we need (the library's default study keys include the patient's name and ID).
  req.setDataset(new dimse.Dataset({ ...keys, QueryRetrieveLevel: level }));
  const matches: Match[] = [];
  let final: Resp | undefined;
  req.on('response', (r: Resp) => {
    const s = r.getStatus();
    if (isPending(s)) {
      const ds = r.hasDataset?.() ? r.getDataset?.() : undefined;
      if (ds) matches.push(ds.getElements());
    } else final = r;
  });
  const { failure, ms } = await exchange(dest, [req], timeoutMs);
  if (final && final.getStatus() === Status.Success) return { ok: true, status: 0, matches, ms };
  if (final) {
    const s = final.getStatus();
    const comment = final.getErrorComment?.();
    return { ok: false, status: s, matches, ms, retryable: isRetryableQrStatus(s), error: `C-FIND (${level}) failed with status 0x${hex(s)}${comment ? `: ${comment}` : ''}` };
  }
  return { ok: false, matches, ms, error: failure?.error ?? `C-FIND (${level}): no final answer`, retryable: failure?.retryable ?? true };
}

/** Study-level C-FIND: studies with an MR series in a date range (YYYYMMDD), with the attributes we judge. */
export function findStudies(dest: ScuDestination, q: { dateFrom: string; dateTo: string; modality?: string }, timeoutMs = 60_000): Promise<FindOutcome> {
  return find(
    dest,
    'STUDY',
    {
      StudyInstanceUID: '',
      StudyDate: `${q.dateFrom}-${q.dateTo}`,
      ModalitiesInStudy: q.modality ?? 'MR',
      StudyDescription: '',
      AccessionNumber: '',
      BodyPartExamined: '',
      NumberOfStudyRelatedInstances: '',
    },
    timeoutMs,
  );
}

/** Series-level C-FIND of one study: what the series-selection rules can judge from the PACS's answer. */
export function findSeries(dest: ScuDestination, studyUid: string, timeoutMs = 60_000): Promise<FindOutcome> {
  return find(
    dest,
    'SERIES',
    {
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: '',
      Modality: '',
      SeriesNumber: '',
      SeriesDescription: '',
      BodyPartExamined: '',
      ImageOrientationPatient: '',
      ImageType: '',
      RepetitionTime: '',
      EchoTime: '',
      InversionTime: '',
      ScanOptions: '',
      NumberOfSeriesRelatedInstances: '',
    },
    timeoutMs,
  );
}

/** Where the C-STORE sub-operations of a C-GET go: the listener's store path (see backfill/ingest.ts). */
export interface SubOperationSink {
  /** A sub-operation's data set starts to arrive: the stream for its raw bytes (as received, no Part-10 header). */
  open(sub: { sopClassUid: string; sopInstanceUid: string; transferSyntax: string; contextSopClass: string }): Writable;
  /** Its data set has arrived in full (the stream has finished): store it; the status answers the C-STORE. */
  store(stream: Writable, sub: { sopClassUid: string; sopInstanceUid: string }): Promise<{ status: number; reason?: string }>;
  /** The association has ended: drop what was opened and never stored (a data set cut off mid-transfer). */
  close?(): Promise<void>;
}

/** C-MOVE these series of a study to `moveAe` over one association. */
export function moveSeries(dest: ScuDestination, moveAe: string, studyUid: string, seriesUids: string[], timeoutMs = 300_000): Promise<MoveOutcome> {
  return retrieveSeries(dest, { kind: 'move', moveAe }, studyUid, seriesUids, timeoutMs);
}

/**
 * C-GET these series of a study over one association: the PACS sends each instance back as a C-STORE
 * sub-operation on it (storage SOP classes are proposed with the SCP role, PS3.7 D.3.3.4 role selection, which
 * dcmjs-dimse's CGetRequest does), streamed to `sink.open`'s writer and answered with `sink.store`'s status.
 */
export function getSeries(dest: ScuDestination, studyUid: string, seriesUids: string[], sink: SubOperationSink, timeoutMs = 300_000): Promise<MoveOutcome> {
  return retrieveSeries(dest, { kind: 'get', sink }, studyUid, seriesUids, timeoutMs);
}

type Retrieval = { kind: 'move'; moveAe: string } | { kind: 'get'; sink: SubOperationSink };

async function retrieveSeries(dest: ScuDestination, how: Retrieval, studyUid: string, seriesUids: string[], timeoutMs: number): Promise<MoveOutcome> {
  const op = how.kind === 'move' ? 'C-MOVE' : 'C-GET';
  const out: MoveOutcome['series'] = seriesUids.map((seriesUid) => ({ seriesUid, completed: 0, failed: 0, warnings: 0 }));
  const reqs = seriesUids.map((uid, k) => {
    const req = how.kind === 'move' ? dimse.requests.CMoveRequest.createSeriesMoveRequest(how.moveAe, studyUid, uid) : dimse.requests.CGetRequest.createSeriesGetRequest(studyUid, uid);
    req.on('response', (r: Resp) => {
      const s = r.getStatus();
      if (isPending(s)) return;
      const item = out[k]!;
      item.status = s;
      item.completed = r.getCompleted?.() ?? 0;
      item.failed = r.getFailures?.() ?? 0;
      item.warnings = r.getWarnings?.() ?? 0;
      if (s !== Status.Success) item.error = `${op} failed with status 0x${hex(s)}${r.getErrorComment?.() ? `: ${r.getErrorComment!()}` : ''}`;
    });
    return req;
  });
  const client = new dimse.Client();
  let onConnected: ((n: NetworkInternals) => void) | undefined;
  if (how.kind === 'get') {
    // dcmjs-dimse's client keeps a sub-operation's data set in memory and parses (re-encodes) it; the listener's
    // streaming hooks replace that on this association's network object: the bytes go to the sink as received.
    const streams = new WeakMap<object, Writable>();
    onConnected = (network) => {
      network.createStoreWritableStream = (pc, request) =>
        how.sink.open({
          sopClassUid: String(request.getAffectedSopClassUid()),
          sopInstanceUid: String(request.getAffectedSopInstanceUid()),
          transferSyntax: pc.getAcceptedTransferSyntaxUid() ?? '',
          contextSopClass: String(pc.getAbstractSyntaxUid()),
        });
      network.createDatasetFromStoreWritableStream = (ws, pc, cb) => {
        const ds = new dimse.Dataset({}, pc.getAcceptedTransferSyntaxUid() ?? '');
        streams.set(ds, ws);
        ws.end(() => cb(ds));
      };
    };
    client.on('cStoreRequest', (request: StoreRequestLike, callback: (r: InstanceType<typeof dimse.responses.CStoreResponse>) => void) => {
      const respond = (status: number, comment?: string) => {
        const resp = dimse.responses.CStoreResponse.fromRequest(request as InstanceType<typeof dimse.requests.CStoreRequest>);
        resp.setStatus(status);
        if (comment) resp.setErrorComment?.(comment.slice(0, 64));
        callback(resp);
      };
      const ds = request.getDataset();
      const ws = ds ? streams.get(ds) : undefined;
      if (!ws) return respond(0xc000, 'no dataset');
      how.sink
        .store(ws, { sopClassUid: String(request.getAffectedSopClassUid()), sopInstanceUid: String(request.getAffectedSopInstanceUid()) })
        .then((r) => respond(r.status, r.reason))
        .catch((e) => {
          log.error('C-GET sub-operation not stored', { error: errorMessage(e) });
          respond(0xa700, 'internal error');
        });
    });
  }
  const { failure, ms } = await exchange(dest, reqs, timeoutMs, onConnected, client);
  if (how.kind === 'get') await how.sink.close?.();
  const bad = out.find((s) => s.status === undefined || (s.status !== Status.Success && (s.status & 0xf000) !== 0xb000) || s.failed > 0);
  if (!bad) {
    log.debug(`${op} finished`, { calledAe: dest.aeTitle, series: seriesUids.length, completed: out.reduce((a, s) => a + s.completed, 0), ms });
    return { ok: true, status: 0, series: out, ms };
  }
  if (bad.status === undefined) return { ok: false, series: out, ms, error: failure?.error ?? `${op}: no final answer`, retryable: failure?.retryable ?? true };
  // 0xA801: the PACS does not know our AE title as a move destination (configuration: permanent).
  const permanent = how.kind === 'move' && bad.status === 0xa801;
  const retryable = permanent ? false : isRetryableQrStatus(bad.status) || (bad.status & 0xf000) === 0xb000 || bad.failed > 0;
  const error =
    how.kind === 'move' && bad.status === 0xa801
      ? `C-MOVE refused (0xA801): ${dest.aeTitle} does not know the move destination ${how.moveAe} (declare this service as a DICOM node in the PACS)`
      : (bad.error ?? `${op}: ${bad.failed} sub-operation(s) failed (status 0x${hex(bad.status)})`);
  return { ok: false, status: bad.status, series: out, ms, error, retryable };
}

/** A naturalized attribute as a string (first value of a multi-valued one). */
export function matchString(m: Match, key: string): string {
  const v = m[key];
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.length ? String(v[0] ?? '') : '';
  return String(v);
}

/** A naturalized attribute as strings (all values; a backslash-separated string split). */
export function matchStrings(m: Match, key: string): string[] {
  const v = m[key];
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map((x) => String(x ?? ''));
  return String(v).split('\\');
}

/** A naturalized numeric attribute, or null when absent/empty/not a number. */
export function matchNumber(m: Match, key: string): number | null {
  const s = matchString(m, key).trim();
  if (!s) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
