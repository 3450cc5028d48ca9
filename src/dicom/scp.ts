import dimse from 'dcmjs-dimse';
import { createHash } from 'node:crypto';
import { createWriteStream, statfsSync, type WriteStream } from 'node:fs';
import { readFile, rm, open as openFile, rename, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { isPathSafeUid } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { logger } from '../common/log.js';
import { AssociationTally } from './association-log.js';
import { errorMessage } from '../common/errors.js';
import { part10Header } from './part10.js';
import { instanceMeta, parseHeader, pixelDataProblem } from './tags.js';

const { Server, Scp, Dataset, constants, responses } = dimse as any;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass, TransferSyntax } = constants;
dimse.log.setLevel('error');

const log = logger('dicom');

/** DIMSE statuses we answer with. */
export const STATUS = {
  Success: 0x0000,
  OutOfResources: 0xa700,
  CannotUnderstand: 0xc000,
  DataSetSopClassMismatch: 0xa900,
  NotAuthorized: 0x0124,
} as const;

/** Transfer syntaxes we accept, in order of preference. Compressed ones are stored as received. */
export const ACCEPTED_TRANSFER_SYNTAXES: string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.JpegLossless,
  '1.2.840.10008.1.2.4.57', // JPEG lossless, non-hierarchical
  TransferSyntax.JpegBaseline,
  '1.2.840.10008.1.2.4.51', // JPEG extended
  TransferSyntax.JpegLsLossless,
  TransferSyntax.JpegLsLossy,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000Lossy,
  TransferSyntax.RleLossless,
  '1.2.840.10008.1.2.2', // explicit VR big endian (retired, still sent by old modalities)
];

export const MR_SOP_CLASSES = new Set(['1.2.840.10008.5.1.4.1.1.4', '1.2.840.10008.5.1.4.1.1.4.1']);

function isStorageSopClass(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.5.1.4.1.1.') || uid.startsWith('1.2.840.10008.5.1.4.1.1');
}

export interface ScpContext {
  config: Config;
  store: Store;
  metrics: Metrics;
  /** Called after each stored instance (the pipeline may react). */
  onStored?: (info: { studyUid: string; seriesUid: string; outcome: string }) => void;
}

/** Free bytes on the file system of `dir` (statfs). */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Temp-file writer that hashes what it writes; the Part-10 header is written first. */
class TempInstanceWriter extends Writable {
  readonly hash = createHash('sha256');
  size = 0;
  error?: Error;
  private readonly file: WriteStream;
  constructor(readonly tempPath: string, header: Buffer) {
    super();
    this.file = createWriteStream(tempPath);
    this.file.on('error', (e) => (this.error = e));
    this.hash.update(header);
    this.size += header.length;
    this.file.write(header);
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (!this.file.write(chunk)) this.file.once('drain', () => cb());
    else cb();
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.file.end(() => cb(this.error ?? null));
  }
}

/** A writable that drops the data (used when we will refuse the instance anyway). */
class DiscardWriter extends Writable {
  override _write(_c: Buffer, _e: BufferEncoding, cb: () => void): void {
    cb();
  }
}

interface PendingStore {
  writer?: TempInstanceWriter;
  refuse?: { status: number; reason: string };
  transferSyntax: string;
}

async function fsyncAndRename(tempPath: string, finalPath: string): Promise<void> {
  const fh = await openFile(tempPath, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  const dir = path.dirname(finalPath);
  await mkdir(dir, { recursive: true });
  await rename(tempPath, finalPath);
  const dh = await openFile(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Durable C-STORE: stream to a temp file (Part-10 header first), fsync, parse the header, validate,
 * rename into the blob store, index in SQLite, and only then answer Success.
 */
export async function storeReceived(
  ctx: ScpContext,
  pending: PendingStore,
  request: { sopClassUid: string; sopInstanceUid: string },
  callingAe: string,
): Promise<{ status: number; reason?: string; outcome?: string }> {
  const m = ctx.metrics;
  if (pending.refuse) {
    m.instancesReceived.inc({ outcome: 'rejected' });
    return pending.refuse;
  }
  const w = pending.writer!;
  const reject = async (status: number, reason: string) => {
    await rm(w.tempPath, { force: true });
    m.instancesReceived.inc({ outcome: 'rejected' });
    log.warn('C-STORE rejected', { reason, sopInstanceUid: isPathSafeUid(request.sopInstanceUid) ? request.sopInstanceUid : '(invalid)', callingAe });
    return { status, reason };
  };
  if (w.error) return reject(STATUS.OutOfResources, `could not write temp file: ${w.error.message}`);
  let metaInfo;
  try {
    const buf = await readFile(w.tempPath);
    const { meta, dataset, uidProblems } = parseHeader(buf);
    if (uidProblems.length) return reject(STATUS.CannotUnderstand, `invalid characters in ${uidProblems.join(', ')} (a UID holds digits and dots only)`);
    const pxProblem = pixelDataProblem(buf, pending.transferSyntax, dataset);
    if (pxProblem) return reject(STATUS.CannotUnderstand, `malformed pixel data: ${pxProblem}`);
    metaInfo = instanceMeta(meta, dataset);
  } catch (e) {
    return reject(STATUS.CannotUnderstand, `malformed DICOM dataset: ${errorMessage(e)}`);
  }
  for (const [k, v] of [['StudyInstanceUID', metaInfo.studyInstanceUid], ['SeriesInstanceUID', metaInfo.seriesInstanceUid], ['SOPInstanceUID', metaInfo.sopInstanceUid]] as const) {
    if (!isPathSafeUid(v)) return reject(STATUS.CannotUnderstand, `missing or invalid ${k}`);
  }
  if (metaInfo.sopInstanceUid !== request.sopInstanceUid) return reject(STATUS.CannotUnderstand, 'SOPInstanceUID in the dataset differs from the C-STORE request');
  if (metaInfo.sopClassUid && metaInfo.sopClassUid !== request.sopClassUid) return reject(STATUS.DataSetSopClassMismatch, 'SOPClassUID in the dataset differs from the C-STORE request');
  metaInfo.sopClassUid = request.sopClassUid;
  metaInfo.transferSyntaxUid = pending.transferSyntax;
  const sha256 = w.hash.digest('hex');
  const { index, blobs } = ctx.store;
  // A series belongs to one study, an instance to one series: a sender that re-uses them elsewhere is refused
  // (otherwise the index is left with an empty study that stays `receiving` forever).
  const knownSeries = index.getSeries(metaInfo.seriesInstanceUid);
  if (knownSeries && knownSeries.study_uid !== metaInfo.studyInstanceUid) return reject(STATUS.CannotUnderstand, 'SeriesInstanceUID already belongs to another study');
  const knownInstance = index.getInstance(metaInfo.sopInstanceUid);
  if (knownInstance && knownInstance.series_uid !== metaInfo.seriesInstanceUid) return reject(STATUS.CannotUnderstand, 'SOPInstanceUID already stored in another series');
  try {
    const existing = index.getInstance(metaInfo.sopInstanceUid);
    if (existing && existing.sha256 === sha256 && !existing.files_deleted && blobs.exists(existing.path)) {
      await rm(w.tempPath, { force: true });
      index.countIdenticalResend(metaInfo.sopInstanceUid);
      m.instancesReceived.inc({ outcome: 'identical' });
      return { status: STATUS.Success, outcome: 'identical' };
    }
    const finalPath = blobs.instancePath(metaInfo.studyInstanceUid, metaInfo.seriesInstanceUid, metaInfo.sopInstanceUid);
    if (existing && existing.path !== finalPath) await rm(existing.path, { force: true });
    await fsyncAndRename(w.tempPath, finalPath);
    const outcome = index.recordInstance(metaInfo, { path: finalPath, size: w.size, sha256 }, callingAe);
    m.instancesReceived.inc({ outcome });
    m.bytesReceived.inc({}, w.size);
    ctx.onStored?.({ studyUid: metaInfo.studyInstanceUid, seriesUid: metaInfo.seriesInstanceUid, outcome });
    return { status: STATUS.Success, outcome };
  } catch (e) {
    const msg = errorMessage(e);
    const full = /ENOSPC|EDQUOT/.test(msg);
    return reject(full ? STATUS.OutOfResources : STATUS.OutOfResources, `could not store instance: ${msg}`);
  }
}

export interface DicomServer {
  close(): Promise<void>;
  port: number;
}

/** Start the DICOM SCP (C-ECHO, C-STORE). Resolves once listening; rejects (EADDRINUSE etc.) with a clear message. */
export function startScp(ctx: ScpContext): Promise<DicomServer> {
  const cfg = ctx.config.dicom;
  const active = new Set<any>();
  const allowAe = new Set(cfg.allowedCallingAeTitles.map((s) => s.trim()));
  const allowIp = new Set(cfg.allowedSourceIps.map((s) => s.trim()));
  if (!allowAe.size) log.warn('dicom.allowedCallingAeTitles is empty: any calling AE title is accepted');
  if (!allowIp.size) log.warn('dicom.allowedSourceIps is empty: any source IP is accepted');
  const m = ctx.metrics;

  class OsteoScp extends Scp {
    private pending = new WeakMap<object, PendingStore>();
    private callingAe = '';
    private remoteIp = '';
    private tally!: AssociationTally;

    private readonly sock: { destroy(): void } | undefined;

    constructor(socket: any, opts: any) {
      super(socket, opts);
      this.sock = socket;
      try {
        socket.setNoDelay(true);
      } catch {
        /* not a TCP socket */
      }
      this.remoteIp = String(socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      this.tally = new AssociationTally(this.remoteIp);
      this.on('close', () => (active.delete(this), this.tally.end(this.callingAe)));
    }

    associationRequested(association: any): void {
      this.callingAe = String(association.getCallingAeTitle()).trim();
      const called = String(association.getCalledAeTitle()).trim();
      const refuse = (reason: string, rejReason: number, transient = false) => {
        m.associations.inc({ result: 'refused', reason });
        log.warn('association refused', { reason, callingAe: this.callingAe, calledAe: called, ip: this.remoteIp });
        this.sendAssociationReject(transient ? RejectResult.Transient : RejectResult.Permanent, RejectSource.ServiceUser, rejReason);
      };
      if (allowIp.size && !allowIp.has(this.remoteIp)) return refuse('source-ip', RejectReason.NoReasonGiven);
      if (allowAe.size && !allowAe.has(this.callingAe)) return refuse('calling-ae', RejectReason.CallingAeNotRecognized);
      if (cfg.checkCalledAeTitle && called !== cfg.aeTitle) return refuse('called-ae', RejectReason.CalledAeNotRecognized);
      if (active.size >= cfg.maxAssociations) return refuse('too-many-associations', RejectReason.LocalLimitExceeded, true);
      active.add(this);
      for (const pc of association.getPresentationContexts()) {
        const ctxObj = association.getPresentationContext(pc.id);
        const abstract = ctxObj.getAbstractSyntaxUid();
        if (abstract !== SopClass.Verification && !isStorageSopClass(abstract)) {
          ctxObj.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        const offered: string[] = ctxObj.getTransferSyntaxUids();
        const ts = ACCEPTED_TRANSFER_SYNTAXES.find((t) => offered.includes(t));
        if (ts) ctxObj.setResult(PresentationContextResult.Accept, ts);
        else ctxObj.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      m.associations.inc({ result: 'accepted', reason: '' });
      log.debug('association accepted', { callingAe: this.callingAe, ip: this.remoteIp });
      this.tally.accept();
      this.sendAssociationAccept();
    }

    abort(): void {
      log.warn('association aborted by the peer', { callingAe: this.callingAe, ip: this.remoteIp });
      // dcmjs-dimse leaves the TCP connection open after an A-ABORT: close it, so it stops counting against maxAssociations.
      active.delete(this);
      this.tally.end(this.callingAe, 'aborted');
      this.sock?.destroy();
    }

    associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    cEchoRequest(request: any, callback: (r: any) => void): void {
      const resp = responses.CEchoResponse.fromRequest(request);
      resp.setStatus(STATUS.Success);
      this.tally.echo();
      callback(resp);
    }

    createStoreWritableStream(pc: any, request: any): Writable {
      const ts = pc.getAcceptedTransferSyntaxUid();
      let pending: PendingStore;
      let minFree = ctx.config.storage.minFreeMb * 1024 * 1024;
      let free = Infinity;
      try {
        free = freeBytes(ctx.store.dir);
      } catch {
        /* unknown: do not refuse on that */
        minFree = 0;
      }
      if (free < minFree) {
        const reason = `free disk space ${(free / 1048576).toFixed(0)} MB is below storage.minFreeMb ${ctx.config.storage.minFreeMb} MB`;
        log.error('C-STORE refused: out of resources', { reason });
        pending = { refuse: { status: STATUS.OutOfResources, reason }, transferSyntax: ts };
        const w = new DiscardWriter();
        this.pending.set(w, pending);
        return w;
      }
      const header = part10Header(request.getAffectedSopClassUid(), request.getAffectedSopInstanceUid(), ts, this.callingAe);
      const w = new TempInstanceWriter(ctx.store.blobs.tempPath(), header);
      this.pending.set(w, { writer: w, transferSyntax: ts });
      return w;
    }

    createDatasetFromStoreWritableStream(ws: Writable, pc: any, callback: (ds: any) => void): void {
      const ds = new Dataset({}, pc.getAcceptedTransferSyntaxUid());
      const pending = this.pending.get(ws);
      ws.end(() => {
        if (pending) this.pending.set(ds, pending);
        callback(ds);
      });
    }

    cStoreRequest(request: any, callback: (r: any) => void): void {
      const ds = request.getDataset();
      const pending = ds ? this.pending.get(ds) : undefined;
      const respond = (status: number, comment?: string) => {
        const resp = responses.CStoreResponse.fromRequest(request);
        resp.setStatus(status);
        this.tally.store(status);
        if (comment) resp.setErrorComment?.(comment.slice(0, 64));
        callback(resp);
      };
      if (!pending) {
        respond(STATUS.CannotUnderstand, 'no dataset');
        return;
      }
      storeReceived(ctx, pending, { sopClassUid: request.getAffectedSopClassUid(), sopInstanceUid: request.getAffectedSopInstanceUid() }, this.callingAe)
        .then((r) => respond(r.status, r.reason))
        .catch((e) => {
          log.error('C-STORE failed', { error: errorMessage(e) });
          respond(STATUS.OutOfResources, 'internal error');
        });
    }
  }

  return new Promise((resolve, reject) => {
    const server = new Server(OsteoScp);
    let listening = false;
    server.on('networkError', (e: any) => {
      if (!listening) {
        const msg = e?.code === 'EADDRINUSE' ? `DICOM port ${cfg.port} is already in use (set dicom.port or OSTEOSCREEN_DICOM_PORT)` : `DICOM listener failed: ${errorMessage(e)}`;
        reject(new Error(msg));
      } else log.warn('DICOM network error', { error: errorMessage(e) });
    });
    server.on('listening', () => {
      listening = true;
      log.info('DICOM listener started', { port: cfg.port, aeTitle: cfg.aeTitle });
      resolve({
        port: cfg.port,
        close: () =>
          new Promise<void>((res) => {
            server.close();
            res();
          }),
      });
    });
    server.listen(cfg.port, { associationTimeout: 60_000, pduTimeout: 60_000 });
  });
}
