/**
 * In-process orchestration tests: a Store on an in-memory SQLite index (same migrations as the service) whose
 * wall clock is a FakeClock, and small helpers to record instances without DICOM files.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store, type InstanceMeta } from '../../src/store/index.js';

/** A clock the test moves by hand (ms). Used as the wall clock of the store and as the pipeline's monotonic clock. */
export class FakeClock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    return (this.t += ms);
  }
}

export function memoryStore(clock: FakeClock = new FakeClock()): Store & { clock: FakeClock } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'osteo-mem-store-'));
  return {
    ...openStore(dir, { clock: clock.now, inMemory: true }),
    clock,
  };
}

let sop = 0;

/** Record one instance of (study, series) in the index, as the SCP does after storing the file (at `file`, if given). */
export function receive(store: Store, studyUid: string, seriesUid: string, extra: Partial<InstanceMeta> = {}, file?: string): string {
  const sopInstanceUid = `${seriesUid}.${++sop}`;
  store.index.recordInstance(
    { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid, studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, transferSyntaxUid: '1.2.840.10008.1.2.1', modality: 'MR', ...extra },
    { path: file ?? `/nowhere/${sopInstanceUid}.dcm`, size: 100, sha256: `sha-${sopInstanceUid}` },
    'MODALITY',
  );
  return sopInstanceUid;
}
