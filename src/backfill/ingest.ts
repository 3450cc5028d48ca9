/**
 * Instances fetched by the backfill enter exactly as a C-STORE to the listener does: the SCP's disk check, a temp
 * file with our file meta header, then `storeReceived` (validation, blob store, index, stability, pipeline touch).
 * - `ingestPart10`: one Part-10 file's bytes (a WADO-RS part), kept in memory as the listener keeps a pushed
 *   instance;
 * - `ingestSink`: the C-STORE sub-operations of a C-GET (dicom/qr.ts `getSeries`), streamed to the temp file as
 *   they arrive.
 */
import type { Writable } from 'node:stream';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { splitPart10 } from '../dicom/part10.js';
import { part10Header } from '../dicom/part10.js';
import { DiscardWriter, InstanceSink, STATUS, storeReceived, type PendingStore, type ScpContext } from '../dicom/scp.js';
import type { SubOperationSink } from '../dicom/qr.js';
import { diskFree } from '../store/index.js';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';

const log = logger('backfill');

export interface IngestResult {
  ok: boolean;
  status: number;
  reason?: string;
  outcome?: string;
}

/** The listener's refusal when free disk is below storage.minFreeMb (unknown free space: no refusal). */
function diskShort(ctx: ScpContext): string | undefined {
  const free = diskFree(ctx.store.dir) ?? Infinity;
  if (free >= ctx.config.storage.minFreeMb * 1024 * 1024) return undefined;
  return `free disk space ${(free / 1048576).toFixed(0)} MB is below storage.minFreeMb ${ctx.config.storage.minFreeMb} MB`;
}

/** Store one Part-10 file's bytes through the listener's path; `sourceAe` is recorded as the calling AE. */
export async function ingestPart10(ctx: ScpContext, bytes: Buffer, sourceAe: string): Promise<IngestResult> {
  let parts;
  try {
    parts = splitPart10(bytes);
  } catch (e) {
    return { ok: false, status: STATUS.CannotUnderstand, reason: `not a DICOM Part-10 instance: ${errorMessage(e)}` };
  }
  const short = diskShort(ctx);
  if (short) return { ok: false, status: STATUS.OutOfResources, reason: short };
  const header = part10Header(parts.sopClassUid, parts.sopInstanceUid, parts.transferSyntaxUid, sourceAe);
  // kept in memory as the listener keeps a pushed instance (a part over the listener's limit goes to a temp file)
  const w = new InstanceSink(ctx.store.blobs.tempPath(), header);
  await new Promise<void>((resolve, reject) => w.end(bytes.subarray(parts.datasetOffset), () => (w.error ? reject(w.error) : resolve())));
  const r = await storeReceived(ctx, { sink: w, transferSyntax: parts.transferSyntaxUid }, { sopClassUid: parts.sopClassUid, sopInstanceUid: parts.sopInstanceUid }, sourceAe);
  return { ok: r.status === STATUS.Success, status: r.status, reason: r.reason, outcome: r.outcome };
}

/**
 * The C-GET sub-operations of one association into the listener's path, with the listener's checks at the start
 * of each data set (the SOP class matches its presentation context, free disk), `sourceAe` (the PACS) recorded as
 * the calling AE.
 */
export function ingestSink(ctx: ScpContext, sourceAe: string): SubOperationSink {
  const pending = new WeakMap<Writable, PendingStore>();
  const unstored = new Set<InstanceSink>();
  return {
    open(sub) {
      const refuse = (status: number, reason: string) => {
        log.warn('C-GET sub-operation refused', { reason, calledAe: sourceAe });
        const w = new DiscardWriter();
        pending.set(w, { refuse: { status, reason }, transferSyntax: sub.transferSyntax });
        return w;
      };
      if (sub.contextSopClass !== sub.sopClassUid) return refuse(STATUS.SopClassNotSupported, `SOP class ${sub.sopClassUid.slice(0, 64)} sent on a presentation context for ${sub.contextSopClass.slice(0, 64)}`);
      const short = diskShort(ctx);
      if (short) return refuse(STATUS.OutOfResources, short);
      // spillBytes 0: streamed to its temp file as it arrives (a C-GET association may carry a whole series)
      const w = new InstanceSink(ctx.store.blobs.tempPath(), part10Header(sub.sopClassUid, sub.sopInstanceUid, sub.transferSyntax, sourceAe), 0);
      pending.set(w, { sink: w, transferSyntax: sub.transferSyntax });
      unstored.add(w);
      return w;
    },
    store(stream, sub) {
      const p = pending.get(stream);
      if (!p) return Promise.resolve({ status: STATUS.CannotUnderstand, reason: 'no dataset' });
      pending.delete(stream);
      if (p.sink) unstored.delete(p.sink);
      return storeReceived(ctx, p, sub, sourceAe);
    },
    async close() {
      for (const w of unstored) {
        w.end();
        await finished(w).catch(() => undefined); // its temp file is complete (or failed) before it is removed
        await rm(w.tempPath, { force: true });
      }
      unstored.clear();
    },
  };
}
