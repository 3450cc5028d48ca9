import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from '../common/command.js';
import { parseOptions, requireOption, numberOption, UsageError } from '../common/command.js';
import { loadConfig, resolveInstallPath } from '../config/load.js';
import { Progress } from '../common/progress.js';
import { errorMessage } from '../common/errors.js';
import { parseHeader } from '../dicom/tags.js';
import { formatCsv } from '../common/csv.js';
import { loadModel, modelHash, roiConfigConflict } from '../model/index.js';
import { AnalysisWorker } from './worker-client.js';
import type { AnalyseResult, SeriesFiles } from './analyse.js';
import { VERSION } from '../common/version.js';

interface StudyFiles {
  studyUid: string;
  series: SeriesFiles[];
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/** Read just enough of a file to know whether it is DICOM and to which study/series it belongs. */
function quickHeader(file: string): { study: string; series: string } | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(132);
    if (readSync(fd, head, 0, 132, 0) < 132 || head.toString('ascii', 128, 132) !== 'DICM') return null;
  } finally {
    closeSync(fd);
  }
  try {
    const ds = parseHeader(readFileSync(file)).dataset;
    return ds.StudyInstanceUID && ds.SeriesInstanceUID ? { study: String(ds.StudyInstanceUID), series: String(ds.SeriesInstanceUID) } : null;
  } catch {
    return null;
  }
}

/** Group every DICOM file under `dir` by study and series. Non-DICOM files (ground truth, manifests) are ignored. */
export function discoverStudies(dir: string): { studies: StudyFiles[]; skippedFiles: number } {
  const byStudy = new Map<string, Map<string, string[]>>();
  let skippedFiles = 0;
  for (const f of walk(dir)) {
    const h = quickHeader(f);
    if (!h) {
      skippedFiles++;
      continue;
    }
    const st = byStudy.get(h.study) ?? new Map<string, string[]>();
    byStudy.set(h.study, st);
    st.set(h.series, [...(st.get(h.series) ?? []), f]);
  }
  const studies = [...byStudy].map(([studyUid, series]) => ({ studyUid, series: [...series].map(([seriesUid, files]) => ({ seriesUid, files: files.sort() })) }));
  studies.sort((a, b) => a.studyUid.localeCompare(b.studyUid));
  return { studies, skippedFiles };
}

function cacheKey(s: StudyFiles, modelHashValue: string): string {
  const h = createHash('sha256').update(modelHashValue);
  for (const se of s.series) for (const f of se.files) h.update(f).update(String(statSync(f).size)).update(String(statSync(f).mtimeMs));
  return h.digest('hex').slice(0, 16);
}

export const cohortCommand: Command = {
  name: 'cohort',
  summary: 'extract T1/T2 features for a folder of studies (research)',
  help: `Usage: osteoscreen cohort --studies DIR --out features.csv [options]

Runs the service's engine on every study (DICOM files, any folder layout) under DIR: series selection,
L1-L4 segmentation with the QA gate, ROI, and the full radiomics feature set of the model's extraction
settings on T1 and T2. Writes one row per study: id (StudyInstanceUID), qa_state, qa_reason, then
T1_<feature> and T2_<feature> columns (PyRadiomics names). One bad study never stops the batch.

Options:
  --studies DIR    folder of DICOM studies (searched recursively)
  --out FILE       output CSV
  --cache DIR      per-study result cache (resumable; default: <out>.cache)
  --jobs N         studies analysed in parallel (worker threads; default 1)
  --model FILE     radscore model whose extraction settings define the features (default: config model.file)
  --config FILE    config (selection rules, segmentation model, erosion)

Then: osteoscreen train --features features.csv --labels labels.csv --out model.json --report DIR`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      studies: { type: 'string' },
      out: { type: 'string' },
      cache: { type: 'string' },
      jobs: { type: 'string' },
      model: { type: 'string' },
      config: { type: 'string' },
    });
    const dir = requireOption(values.studies, '--studies');
    const out = requireOption(values.out, '--out');
    if (!existsSync(dir)) throw new UsageError(`--studies: no such folder: ${dir}`);
    const jobs = Math.max(1, Math.min(numberOption(values.jobs, '--jobs', 1), os.cpus().length * 2));
    const config = loadConfig({ file: values.config, overrides: values.model ? { model: { file: path.resolve(values.model) } } : {} });
    const model = loadModel(resolveInstallPath(config.model.file));
    const roiConflict = roiConfigConflict(model, config.segmentation.erosionMm);
    if (roiConflict) throw new UsageError(roiConflict);
    const cacheDir = values.cache ?? `${out}.cache`;
    mkdirSync(cacheDir, { recursive: true });

    process.stderr.write(`cohort: scanning ${dir} ...\n`);
    const { studies, skippedFiles } = discoverStudies(dir);
    process.stderr.write(`cohort: ${studies.length} studies (${skippedFiles} non-DICOM files ignored), ${jobs} worker(s), cache ${cacheDir}\n`);
    if (!studies.length) throw new Error(`no DICOM studies found under ${dir}`);

    const progress = new Progress('cohort', studies.length);
    const results = new Map<string, { state: string; reason: string | null; T1: Record<string, number | null>; T2: Record<string, number | null> }>();
    const workers = Array.from({ length: jobs }, () => new AnalysisWorker(config));
    let next = 0;
    const mh = model.hash ?? modelHash(model);
    const runOne = async (w: AnalysisWorker) => {
      while (next < studies.length) {
        const s = studies[next++]!;
        const cacheFile = path.join(cacheDir, `${s.studyUid}-${cacheKey(s, mh)}.json`);
        let row;
        let cached = false;
        if (existsSync(cacheFile)) {
          row = JSON.parse(readFileSync(cacheFile, 'utf8'));
          cached = true;
        } else {
          try {
            const r: AnalyseResult = await w.run({ studyUid: s.studyUid, series: s.series, features: 'all', algorithmVersion: VERSION });
            row = { state: r.state === 'done' ? 'ok' : 'not-assessable', reason: r.reason, T1: r.features?.T1 ?? {}, T2: r.features?.T2 ?? {} };
          } catch (e) {
            row = { state: 'failed', reason: errorMessage(e), T1: {}, T2: {} };
          }
          // A failed study is not cached, so a re-run tries it again.
          if (row.state !== 'failed') writeFileSync(cacheFile, JSON.stringify(row));
        }
        results.set(s.studyUid, row);
        progress.tick(`${row.state}${row.reason ? `: ${row.reason}` : ''}${cached ? ' (cached)' : ''}`);
      }
    };
    try {
      await Promise.all(workers.map(runOne));
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }

    const names = { T1: new Set<string>(), T2: new Set<string>() };
    for (const r of results.values()) for (const seq of ['T1', 'T2'] as const) for (const k of Object.keys(r[seq])) names[seq].add(k);
    const cols = [...[...names.T1].map((n) => ['T1', n] as const), ...[...names.T2].map((n) => ['T2', n] as const)];
    const header = ['id', 'qa_state', 'qa_reason', ...cols.map(([s, n]) => `${s}_${n}`)];
    const rows = studies.map((s) => {
      const r = results.get(s.studyUid)!;
      return [s.studyUid, r.state, r.reason ?? '', ...cols.map(([seq, n]) => r[seq][n] ?? '')];
    });
    writeFileSync(out, formatCsv(header, rows));
    const counts = [...results.values()].reduce<Record<string, number>>((a, r) => ((a[r.state] = (a[r.state] ?? 0) + 1), a), {});
    process.stderr.write(`cohort: wrote ${out}: ${studies.length} rows, ${cols.length} feature columns; ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    return 0;
  },
};
