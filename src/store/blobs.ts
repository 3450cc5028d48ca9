import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, openSync, fsyncSync, closeSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OsteoError } from '../common/errors.js';

/** DICOM UID syntax (PS3.5 9.1): digits and dots, components without leading zeros, at most 64 chars. */
const UID_RE = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
export function isValidUid(uid: unknown): uid is string {
  return typeof uid === 'string' && uid.length > 0 && uid.length <= 64 && UID_RE.test(uid);
}

/** Lenient variant used only for deciding whether a UID can become a path component (some modalities emit leading zeros). */
export function isPathSafeUid(uid: unknown): uid is string {
  return typeof uid === 'string' && uid.length > 0 && uid.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(uid);
}

/**
 * Durable instance files: `<root>/studies/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm`.
 * Writes go to `<root>/tmp/` first; `commit` fsyncs and renames into place, so a file under
 * studies/ is always complete. UIDs are validated before they become path components.
 */
export class BlobStore {
  readonly tmpDir: string;
  readonly studiesDir: string;

  constructor(readonly root: string) {
    this.tmpDir = path.join(root, 'tmp');
    this.studiesDir = path.join(root, 'studies');
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(this.studiesDir, { recursive: true });
  }

  /** Remove leftovers of interrupted transfers (never acknowledged, so the sender still has them). */
  cleanTmp(): number {
    let n = 0;
    for (const f of readdirSync(this.tmpDir)) {
      rmSync(path.join(this.tmpDir, f), { force: true, recursive: true });
      n++;
    }
    return n;
  }

  tempPath(): string {
    return path.join(this.tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}.part`);
  }

  openTemp(): { path: string; stream: WriteStream } {
    const p = this.tempPath();
    return { path: p, stream: createWriteStream(p) };
  }

  instancePath(studyUid: string, seriesUid: string, sopUid: string): string {
    for (const [name, uid] of [['StudyInstanceUID', studyUid], ['SeriesInstanceUID', seriesUid], ['SOPInstanceUID', sopUid]] as const) {
      if (!isPathSafeUid(uid)) throw new OsteoError('bad-uid', `${name} is not a valid DICOM UID`, 400);
    }
    return path.join(this.studiesDir, studyUid, seriesUid, `${sopUid}.dcm`);
  }

  /** fsync the temp file, rename it into place (atomic on one file system) and fsync the folder. */
  commit(tempPath: string, finalPath: string): void {
    const fd = openSync(tempPath, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const dir = path.dirname(finalPath);
    mkdirSync(dir, { recursive: true });
    renameSync(tempPath, finalPath);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  exists(p: string): boolean {
    return existsSync(p);
  }

  size(p: string): number {
    return statSync(p).size;
  }

  /** Delete a study's instance folder (index rows are handled by the caller). */
  removeStudy(studyUid: string): void {
    if (!isPathSafeUid(studyUid)) throw new OsteoError('bad-uid', 'StudyInstanceUID is not a valid DICOM UID', 400);
    rmSync(path.join(this.studiesDir, studyUid), { recursive: true, force: true });
  }

  /** Every instance file on disk (for reconciliation after a crash). */
  *walk(): Generator<{ studyUid: string; seriesUid: string; sopUid: string; path: string }> {
    for (const st of safeReaddir(this.studiesDir)) {
      for (const se of safeReaddir(path.join(this.studiesDir, st))) {
        for (const f of safeReaddir(path.join(this.studiesDir, st, se))) {
          if (f.endsWith('.dcm')) yield { studyUid: st, seriesUid: se, sopUid: f.slice(0, -4), path: path.join(this.studiesDir, st, se, f) };
        }
      }
    }
  }
}

function safeReaddir(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}
