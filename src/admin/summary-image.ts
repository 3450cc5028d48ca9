import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/index.js';
import { outputsDir } from './retention.js';

/**
 * The PNG preview of a study's summary image, if one exists:
 *  1. `<data>/outputs/<StudyUID>/summary.png`;
 *  2. next to the newest outbox `summary` output: `summary-<uid>.png` for `summary-<uid>.dcm`;
 *  3. the newest `summary-*.png` in that output's folder or in the study's outputs folder.
 * Only files inside the data folder are served.
 */
export function findSummaryPng(store: Pick<Store, 'dir' | 'outbox'>, studyUid: string): string | null {
  const root = path.resolve(store.dir) + path.sep;
  const inside = (p: string) => path.resolve(p).startsWith(root);
  const direct = path.join(outputsDir(store.dir, studyUid), 'summary.png');
  if (existsSync(direct)) return direct;
  const folders = new Set<string>([outputsDir(store.dir, studyUid)]);
  const summaries = store.outbox.ofStudy(studyUid).filter((o) => o.kind === 'summary');
  for (const o of summaries.reverse()) {
    const png = o.path.replace(/\.dcm$/i, '.png');
    if (png !== o.path && inside(png) && existsSync(png)) return png;
    folders.add(path.dirname(o.path));
  }
  let best: { p: string; t: number } | null = null;
  for (const dir of folders) {
    if (!inside(dir)) continue;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!/^summary.*\.png$/i.test(n)) continue;
      const p = path.join(dir, n);
      const t = statSync(p).mtimeMs;
      if (!best || t > best.t) best = { p, t };
    }
  }
  return best?.p ?? null;
}
