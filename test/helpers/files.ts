import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Every file below `dir` whose path ends with `ext` (a suffix, or a pattern), sorted; [] when `dir` is missing. */
export function filesUnder(dir: string, ext: string | RegExp = /\.dcm$/i): string[] {
  if (!existsSync(dir)) return [];
  const match = typeof ext === 'string' ? (p: string) => p.endsWith(ext) : (p: string) => ext.test(p);
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ext));
    else if (match(p)) out.push(p);
  }
  return out.sort();
}
