/**
 * A Part-10 instance fetched by the backfill (WADO-RS) enters exactly as a C-STORE does: the SCP's disk check,
 * a temp file with our file meta header, then `storeReceived` (validation, blob store, index, pipeline touch).
 */
import { splitPart10 } from '../dicom/part10.js';
import { part10Header } from '../dicom/part10.js';
import { STATUS, TempInstanceWriter, storeReceived, type ScpContext } from '../dicom/scp.js';
import { diskFree } from '../store/index.js';
import { errorMessage } from '../common/errors.js';

export interface IngestResult {
  ok: boolean;
  status: number;
  reason?: string;
  outcome?: string;
}

/** Store one Part-10 file's bytes through the listener's path; `sourceAe` is recorded as the calling AE. */
export async function ingestPart10(ctx: ScpContext, bytes: Buffer, sourceAe: string): Promise<IngestResult> {
  let parts;
  try {
    parts = splitPart10(bytes);
  } catch (e) {
    return { ok: false, status: STATUS.CannotUnderstand, reason: `not a DICOM Part-10 instance: ${errorMessage(e)}` };
  }
  const free = diskFree(ctx.store.dir) ?? Infinity;
  if (free < ctx.config.storage.minFreeMb * 1024 * 1024) {
    return { ok: false, status: STATUS.OutOfResources, reason: `free disk space ${(free / 1048576).toFixed(0)} MB is below storage.minFreeMb ${ctx.config.storage.minFreeMb} MB` };
  }
  const header = part10Header(parts.sopClassUid, parts.sopInstanceUid, parts.transferSyntaxUid, sourceAe);
  const w = new TempInstanceWriter(ctx.store.blobs.tempPath(), header);
  await new Promise<void>((resolve, reject) => w.end(bytes.subarray(parts.datasetOffset), () => (w.error ? reject(w.error) : resolve())));
  const r = await storeReceived(ctx, { writer: w, transferSyntax: parts.transferSyntaxUid }, { sopClassUid: parts.sopClassUid, sopInstanceUid: parts.sopInstanceUid }, sourceAe);
  return { ok: r.status === STATUS.Success, status: r.status, reason: r.reason, outcome: r.outcome };
}
