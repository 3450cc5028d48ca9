import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when Rscript with glmnet and pROC is available. .ci/run installs r-base-core r-cran-glmnet r-cran-proc. */
export const HAVE_R: boolean = (() => {
  const r = spawnSync('Rscript', ['-e', 'suppressMessages({library(glmnet); library(pROC)}); cat("ok")'], { encoding: 'utf8' });
  // Where it is missing, skipWithout (test/helpers/tools.ts) says so, and fails under CI=true.
  return r.status === 0 && r.stdout.includes('ok');
})();

/**
 * Runs an R script. `data` entries are written as headerless CSV files and available in R as
 * `D$<name>` (numeric matrix, or vector when one column). The script prints results with
 * `out("name", values)`; the parsed map name → number[] is returned.
 */
export function runR(script: string, data: Record<string, ArrayLike<number> | ArrayLike<number>[]>): Record<string, number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'osteo-r-'));
  try {
    const loads: string[] = ['D <- list()'];
    for (const [name, v] of Object.entries(data)) {
      const rows: string[] = [];
      const first = (v as ArrayLike<unknown>)[0];
      if (typeof first === 'number' || first === undefined) {
        for (let i = 0; i < v.length; i++) rows.push(String((v as ArrayLike<number>)[i]));
      } else {
        for (let i = 0; i < v.length; i++) rows.push(Array.from((v as ArrayLike<number>[])[i]!).map(String).join(','));
      }
      const file = join(dir, `${name}.csv`);
      writeFileSync(file, rows.join('\n') + '\n');
      loads.push(`D[["${name}"]] <- { m <- as.matrix(read.csv("${file}", header = FALSE)); dimnames(m) <- NULL; if (ncol(m) == 1) m[, 1] else m }`);
    }
    const prelude = [
      'suppressMessages({library(glmnet); library(pROC)})',
      'out <- function(name, x) cat(name, sprintf("%.17g", as.numeric(x)), "\\n")',
      ...loads,
    ].join('\n');
    const file = join(dir, 'script.R');
    writeFileSync(file, `${prelude}\n${script}\n`);
    const stdout = execFileSync('Rscript', [file], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    const res: Record<string, number[]> = {};
    for (const line of stdout.split('\n')) {
      const parts = line.trim().split(/\s+/);
      if (parts.length < 1 || !parts[0]) continue;
      res[parts[0]] = parts.slice(1).map(Number);
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
