import dimse from 'dcmjs-dimse';
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { Writable } from 'node:stream';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { isPathSafeUid } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { instanceMeta, parseInstance } from './tags.js';
import { fastInstance } from './fast-instance.js';
import { GroupCommitter } from '../store/group-commit.js';
import { BufferPool, OWN_BUFFER_BYTES, ownsWholeBuffer } from '../common/buffer-pool.js';
import { pauseAt } from '../common/test-pause.js';
import { PduGuard, guardSocket } from './pdu-guard.js';
import { datasetStructureProblem, type RawElement, type WalkNotes } from './elements.js';
import { Connections } from './connections.js';
import { scpClass } from './scp-class.js';

const { constants } = dimse;
const { TransferSyntax } = constants;
dimse.log.setLevel('error');

const log = logger('dicom');

/** DIMSE statuses we answer with. */
export const STATUS = {
  Success: 0x0000,
  OutOfResources: 0xa700,
  CannotUnderstand: 0xc000,
  DataSetSopClassMismatch: 0xa900,
  NotAuthorized: 0x0124,
  SopClassNotSupported: 0x0122,
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

/** Storage SOP classes (1.2.840.10008.5.1.4.1.1.x): anything a modality or PACS may C-STORE. */
export function isStorageSopClass(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.5.1.4.1.1.') || uid.startsWith('1.2.840.10008.5.1.4.1.1');
}

export interface ScpContext {
  config: Config;
  store: Store;
  metrics: Metrics;
  /** Called after each stored instance (the pipeline may react). */
  onStored?: (info: { studyUid: string; seriesUid: string; outcome: string }) => void;
}

/** A writable that drops the data (used when we will refuse the instance anyway). */
export class DiscardWriter extends Writable {
  override _write(_c: Buffer, _e: BufferEncoding, cb: () => void): void {
    cb();
  }
}

/** Instances larger than this are streamed to their temp file while they arrive instead of being kept in memory. */
export const IN_MEMORY_INSTANCE_BYTES = 64 * 1024 * 1024;

/**
 * Receives one C-STORE data set: keeps it in memory (Part-10 header first); an instance larger than `spillBytes`
 * goes on to a temp file instead (0: every byte goes to the temp file), hashed as it is written there. `bytes()`
 * then gives the whole file as one buffer of its own (copied once, or not at all: adopt), parsed in place and handed
 * to the writer thread, which hashes it (storeReceived: the SHA-256 off the main thread unless it is needed first).
 */
export class InstanceSink extends Writable {
  /** SHA-256 of what went to the temp file (spilled instances only). */
  private hash?: ReturnType<typeof createHash>;
  size = 0;
  error?: Error;
  readonly headerLength: number;
  /** The file's buffer came from the pool (taken over from the PDU assembler, or `alloc`): it may go back once written. */
  pooled = false;
  private chunks: Buffer[] = [];
  private file?: WriteStream;
  constructor(
    readonly tempPath: string,
    header: Buffer,
    private readonly spillBytes = IN_MEMORY_INSTANCE_BYTES,
    /** Where bytes() gets the buffer it copies the fragments into (a BufferPool's take; default a fresh one). */
    private readonly alloc?: (size: number) => Buffer,
  ) {
    // A high mark above one PDU: the library never waits for 'drain' on an in-memory instance.
    super({ highWaterMark: 4 * 1024 * 1024 });
    this.headerLength = header.length;
    this.size = header.length;
    this.chunks.push(header);
  }
  /**
   * Add a fragment without the stream machinery while the instance stays in memory (the listener's own DIMSE path:
   * the same keeping as _write); through write() once it goes to its temp file. False: wait for 'drain'.
   */
  append(chunk: Buffer): boolean {
    if (this.file || this.size + chunk.length > this.spillBytes) return this.write(chunk);
    this.size += chunk.length;
    this.chunks.push(chunk);
    return true;
  }
  /**
   * The first fragment, when it sits alone in a buffer of its own right after `headerLength` spare bytes (the PDU
   * assembler's headroom): the Part-10 header is written into those bytes and that buffer becomes the instance's
   * file, so the data set is never copied again. Otherwise (or when it does not fit the rules) append().
   */
  adopt(chunk: Buffer): boolean {
    const first = this.chunks.length === 1 && this.size === this.headerLength && !this.file;
    if (!first || chunk.byteOffset !== this.headerLength || chunk.byteOffset + chunk.length !== chunk.buffer.byteLength || this.size + chunk.length > this.spillBytes) return this.append(chunk);
    const whole = Buffer.from(chunk.buffer, 0, chunk.buffer.byteLength);
    this.chunks[0]!.copy(whole, 0);
    this.size += chunk.length;
    this.chunks = [whole];
    this.pooled = true;
    return true;
  }
  /** SHA-256 (hex) of the whole file: of what went to the temp file, or of `bytes` (the in-memory file). Once. */
  sha256(bytes?: Buffer): string {
    if (this.hash) return this.hash.digest('hex');
    const h = createHash('sha256');
    if (bytes) h.update(bytes);
    else for (const c of this.chunks) h.update(c);
    return h.digest('hex');
  }
  /** True when the instance went to its temp file (read it back from there). */
  get spilled(): boolean {
    return this.file !== undefined;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.size += chunk.length;
    if (!this.file) {
      this.chunks.push(chunk);
      if (this.size <= this.spillBytes) return cb();
      this.file = createWriteStream(this.tempPath);
      this.file.on('error', (e) => (this.error = e));
      this.hash = createHash('sha256');
      for (const c of this.chunks) this.hash.update(c), this.file.write(c);
      this.chunks = [];
      return cb();
    }
    this.hash!.update(chunk);
    if (!this.file.write(chunk)) this.file.once('drain', () => cb());
    else cb();
  }
  override _final(cb: (e?: Error | null) => void): void {
    if (this.file) this.file.end(() => cb(this.error ?? null));
    else cb();
  }
  /** The whole Part-10 file in one buffer that owns its memory (transferable); call once, when not spilled. */
  bytes(): Buffer {
    const one = this.chunks.length === 1 ? this.chunks[0]! : undefined;
    if (one && ownsWholeBuffer(one) && one.length === this.size && one.length >= OWN_BUFFER_BYTES) {
      this.chunks = [];
      return one; // adopted: already the whole file in a buffer of its own
    }
    // over 4 KB: a buffer of its own (transferable); measured faster than allocUnsafeSlow
    const b = this.alloc && this.size >= OWN_BUFFER_BYTES ? ((this.pooled = true), this.alloc(this.size)) : Buffer.allocUnsafe(this.size);
    let o = 0;
    for (const c of this.chunks) o += c.copy(b, o);
    this.chunks = [];
    return b;
  }
}

export interface PendingStore {
  /** The instance as received (in memory, or in its temp file when spilled). */
  sink?: InstanceSink;
  refuse?: { status: number; reason: string };
  transferSyntax: string;
}

const committers = new WeakMap<Store, GroupCommitter>();
const pools = new WeakMap<Store, BufferPool>();

/** The buffers of a store's received instances, back from the writer threads for re-use (PduAssembler). */
export function bufferPoolFor(store: Store): BufferPool {
  return pools.get(store) ?? (pools.set(store, new BufferPool()).get(store) as BufferPool);
}

/** The store's group committer (writer threads per store, started on first use). */
export function committerFor(store: Store): GroupCommitter {
  let c = committers.get(store);
  if (!c) {
    const pool = bufferPoolFor(store);
    committers.set(store, (c = new GroupCommitter((fn) => store.index.inTransaction(fn), undefined, (b) => pool.give(b))));
  }
  return c;
}

/**
 * Durable C-STORE: the instance (Part-10 header first) is validated from the bytes in memory (or read back from its
 * temp file when it was too large to keep), then the group committer writes, fsyncs and renames it into the blob
 * store and records it in the index in a batch transaction; only then is Success answered.
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
  const w = pending.sink!;
  const inMemory = !w.spilled;
  await pauseAt('receiving', { callingAe });
  const reject = async (status: number, reason: string) => {
    if (!inMemory) await rm(w.tempPath, { force: true });
    m.instancesReceived.inc({ outcome: 'rejected' });
    log.warn('C-STORE rejected', { reason, sopInstanceUid: isPathSafeUid(request.sopInstanceUid) ? request.sopInstanceUid : '(invalid)', callingAe });
    return { status, reason };
  };
  if (w.error) return reject(STATUS.OutOfResources, `could not write temp file: ${w.error.message}`);
  let metaInfo;
  let buf: Buffer | undefined;
  try {
    buf = inMemory ? w.bytes() : await readFile(w.tempPath);
    // Every declared length must fit in what arrived (dcmjs reports declared lengths, so it cannot tell).
    const topLevel: RawElement[] = [];
    const notes: WalkNotes = { unknownVr: false };
    const structure = datasetStructureProblem(buf.subarray(w.headerLength), pending.transferSyntax, (e) => topLevel.push(e), notes);
    if (structure) return reject(STATUS.CannotUnderstand, `truncated or malformed dataset: ${structure}`);
    // The index fields and the PixelData length check: read from the walked elements where that provably gives
    // dcmjs's answers (fast-instance.ts), else by dcmjs (parseInstance: one parse where that gives the same answers).
    const fast = fastInstance(topLevel, pending.transferSyntax, notes);
    if (fast) {
      if (fast.pixelProblem) return reject(STATUS.CannotUnderstand, `malformed pixel data: ${fast.pixelProblem}`);
      metaInfo = fast.info;
    } else {
      const { meta, dataset, uidProblems, pixelProblem } = parseInstance(buf, pending.transferSyntax, topLevel.map((e) => e.tag));
      if (uidProblems.length) return reject(STATUS.CannotUnderstand, `invalid characters in ${uidProblems.join(', ')} (a UID holds digits and dots only)`);
      if (pixelProblem) return reject(STATUS.CannotUnderstand, `malformed pixel data: ${pixelProblem}`);
      metaInfo = instanceMeta(meta, dataset);
    }
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
  const { index, blobs } = ctx.store;
  // A series belongs to one study, an instance to one series: a sender that re-uses them elsewhere is refused
  // (otherwise the index is left with an empty study that stays `receiving` forever).
  const knownSeries = index.getSeries(metaInfo.seriesInstanceUid);
  if (knownSeries && knownSeries.study_uid !== metaInfo.studyInstanceUid) return reject(STATUS.CannotUnderstand, 'SeriesInstanceUID already belongs to another study');
  const existing = index.getInstance(metaInfo.sopInstanceUid);
  if (existing && existing.series_uid !== metaInfo.seriesInstanceUid) return reject(STATUS.CannotUnderstand, 'SOPInstanceUID already stored in another series');
  // The SHA-256 on this thread only when it decides something now (a re-send: identical or not; a spilled file);
  // otherwise the writer thread computes it from the bytes it writes.
  const sha256 = !inMemory ? w.sha256() : existing ? w.sha256(buf) : undefined;
  try {
    if (existing && existing.sha256 === sha256 && !existing.files_deleted && blobs.exists(existing.path)) {
      if (!inMemory) await rm(w.tempPath, { force: true });
      index.countIdenticalResend(metaInfo.sopInstanceUid);
      m.instancesReceived.inc({ outcome: 'identical' });
      return { status: STATUS.Success, outcome: 'identical' };
    }
    const finalPath = blobs.instancePath(metaInfo.studyInstanceUid, metaInfo.seriesInstanceUid, metaInfo.sopInstanceUid);
    if (existing && existing.path !== finalPath) await rm(existing.path, { force: true });
    const info = metaInfo;
    const outcome = await committerFor(ctx.store).commit({ tempPath: w.tempPath, finalPath, bytes: inMemory ? buf : undefined, recycle: w.pooled, hash: sha256 === undefined }, (done) =>
      index.recordInstance(info, { path: finalPath, size: w.size, sha256: sha256 ?? done.sha256! }, callingAe),
    );
    buf = undefined; // transferred to the writer thread
    m.instancesReceived.inc({ outcome });
    m.bytesReceived.inc({}, w.size);
    ctx.onStored?.({ studyUid: metaInfo.studyInstanceUid, seriesUid: metaInfo.seriesInstanceUid, outcome });
    return { status: STATUS.Success, outcome };
  } catch (e) {
    const msg = errorMessage(e);
    // Disk full or another write error: A700 either way, nothing was acknowledged and the sender may retry.
    const full = /ENOSPC|EDQUOT/.test(msg);
    return reject(STATUS.OutOfResources, `${full ? 'disk full: ' : ''}could not store instance: ${msg}`);
  }
}

export interface DicomServer {
  close(): Promise<void>;
  port: number;
}

/** Start the DICOM SCP (C-ECHO, C-STORE). Resolves once listening; rejects (EADDRINUSE etc.) with a clear message. */
export function startScp(ctx: ScpContext): Promise<DicomServer> {
  const cfg = ctx.config.dicom;
  const allowAe = new Set(cfg.allowedCallingAeTitles.map((s) => s.trim()));
  const allowIp = new Set(cfg.allowedSourceIps.map((s) => s.trim()));
  if (!allowAe.size) log.warn('dicom.allowedCallingAeTitles is empty: any calling AE title is accepted');
  if (!allowIp.size) log.warn('dicom.allowedSourceIps is empty: any source IP is accepted');
  const m = ctx.metrics;
  const timeoutMs = cfg.timeoutSeconds * 1000;
  const conns = new Connections(
    { maxAssociations: cfg.maxAssociations, maxPending: cfg.maxPendingConnections, timeoutMs, evictIdleMs: Math.max(500, timeoutMs / 6) },
    (t, reason) => {
      m.associations.inc({ result: 'aborted', reason: reason.replace(/[:(].*/, '').replace(/\d+/g, 'N').trim().slice(0, 60) });
      log.warn('DICOM connection closed', { reason, callingAe: t.callingAe || undefined, ip: t.ip, bytesRead: t.bytesRead });
    },
  );
  const OsteoScp = scpClass(ctx, { allowAe, conns });
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      const ip = String(socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      // The IP allowlist is applied at accept: an unknown source never gets a byte read.
      if (allowIp.size && !allowIp.has(ip)) {
        m.associations.inc({ result: 'refused', reason: 'source-ip' });
        log.warn('association refused', { reason: 'source-ip', ip });
        socket.destroy();
        return;
      }
      socket.on('error', () => undefined); // reported through the library's handler / the close reason
      const t = conns.add(socket, ip);
      const route = guardSocket(
        socket,
        new PduGuard({
          maxPduLength: () => t.maxPdu,
          onViolation: (reason) => t.close(`protocol violation: ${reason}`, true),
          onData: (n) => ((t.lastData = Date.now()), (t.bytesRead += n)),
        }),
        bufferPoolFor(ctx.store),
      );
      // The library's own timers are replaced by Connections (its connect timeout of 180 s never applied ours).
      new OsteoScp(socket, { connectTimeout: timeoutMs * 2, associationTimeout: timeoutMs, pduTimeout: timeoutMs }, t, route);
    });
    let listening = false;
    server.on('error', (e: NodeJS.ErrnoException) => {
      if (!listening) {
        const msg = e?.code === 'EADDRINUSE' ? `DICOM port ${cfg.port} is already in use (set dicom.port or OSTEOSCREEN_DICOM_PORT)` : `DICOM listener failed on ${cfg.host}:${cfg.port}: ${errorMessage(e)}`;
        reject(new Error(msg));
      } else log.warn('DICOM network error', { error: errorMessage(e) });
    });
    server.listen(cfg.port, cfg.host, () => {
      listening = true;
      log.info('DICOM listener started', { host: cfg.host, port: cfg.port, aeTitle: cfg.aeTitle });
      resolve({
        port: cfg.port,
        close: () =>
          new Promise<void>((res) => {
            server.close();
            conns.closeAll();
            res();
          }).then(() => committerFor(ctx.store).close()),
      });
    });
  });
}
