/**
 * `osteoscreen features`: PyRadiomics-compatible feature extraction for one image + mask, or a batch CSV
 * (columns Image, Mask[, Label], as pyradiomics' batch mode). Output: CSV (one row per case, PyRadiomics column
 * names: Image, Mask, diagnostics_*, <imagetype>_<class>_<Feature>) or JSON for one case.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseOptions, UsageError, type Command } from '../common/command.js';
import { csvField, parseCsv } from '../common/csv.js';
import { errorMessage } from '../common/errors.js';
import { logger } from '../common/log.js';
import { Progress } from '../common/progress.js';
import type { ExtractResult } from './extractor.js';
import { createRadiomicsPool, type RadiomicsPool } from './parallel.js';
import { loadImage, loadMask } from './io.js';
import { featureDocsMarkdown } from './features/index.js';
import { defaultSettings, loadParams, settingsDocsMarkdown, withSetting, type RadiomicsSettings } from './settings.js';

const log = logger('features');

const HELP = `Usage: osteoscreen features --image IMG --mask MASK [options]
       osteoscreen features --batch CASES.csv [options]

Compute PyRadiomics-compatible radiomics features (names identical to PyRadiomics 3.1).

Inputs:
  --image IMG        image: NRRD (.nrrd), NIfTI (.nii, .nii.gz) or a folder with one DICOM series
  --mask MASK        label map on the same grid (or any grid with setting correctMask)
  --batch CSV        batch mode: CSV with columns Image,Mask (optional Label); relative paths are
                     resolved against the CSV's folder; other columns are copied to the output

Options:
  --label N          label value of the ROI (overrides the parameter file; default 1)
  --params FILE      PyRadiomics parameter file (YAML: imageType, featureClass, setting).
                     Default: the reference model's settings (Original, LoG 1-5 mm, wavelet coif1,
                     box-sigma r=1, additive Gaussian noise seed 42, binWidth 25, all 3-D classes)
  --only NAMES       comma-separated feature names to compute (e.g. original_glcm_Idmn)
  --format csv|json  output format (default csv; json only for one case)
  --out FILE         write the output to FILE instead of stdout
  --no-diagnostics   leave the diagnostics_* columns out of the CSV
  --workers N        worker threads (default: number of CPUs; 1 = no threads)
  --docs             print the feature and settings reference (markdown) and exit
  -h, --help         this help

Values PyRadiomics yields as NaN are written as "nan" (CSV) / null (JSON); the reason is in
diagnostics.nullFeatures. Exit codes: 0 ok, 1 some cases failed (batch), 2 usage error, 3 failure.

Examples:
  osteoscreen features --image t1.nrrd --mask vertebrae.nrrd --label 1
  osteoscreen features --image ct.nii.gz --mask roi.nii.gz --params params.yaml --format json
  osteoscreen features --batch cases.csv --out features.csv`;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return 'nan';
  let s: string;
  if (typeof v === 'number') s = Number.isFinite(v) ? String(v) : 'nan';
  else if (typeof v === 'string') s = v;
  else s = JSON.stringify(v);
  return csvField(s);
}

interface Row {
  head: Record<string, string>;
  result: ExtractResult;
}

/** Rows → CSV text: copied input columns, then diagnostics (optional), then features, in first-seen order. */
export function toCsv(rows: Row[], withDiagnostics: boolean): string {
  const headCols: string[] = [];
  const diagCols: string[] = [];
  const featCols: string[] = [];
  const add = (list: string[], seen: Set<string>, k: string) => {
    if (!seen.has(k)) {
      seen.add(k);
      list.push(k);
    }
  };
  const sh = new Set<string>(), sd = new Set<string>(), sf = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.head)) add(headCols, sh, k);
    if (withDiagnostics) for (const k of Object.keys(r.result.diagnostics)) if (k.startsWith('diagnostics_')) add(diagCols, sd, k);
    for (const k of Object.keys(r.result.features)) add(featCols, sf, k);
  }
  const lines = [[...headCols, ...diagCols, ...featCols].map(csvCell).join(',')];
  for (const r of rows) {
    lines.push(
      [
        ...headCols.map((k) => csvCell(r.head[k] ?? '')),
        ...diagCols.map((k) => csvCell(r.result.diagnostics[k])),
        ...featCols.map((k) => csvCell(r.result.features[k])),
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

async function runCase(pool: RadiomicsPool, image: string, mask: string, settings: RadiomicsSettings, only: string[] | undefined): Promise<ExtractResult> {
  const img = await loadImage(image);
  const msk = await loadMask(mask);
  const nImages = only ? new Set(only.map((n) => n.split('_').slice(0, -2).join('_').toLowerCase())).size : Object.entries(settings.imageType).reduce((n, [t, o]) => {
    if (t === 'LoG') return n + ((o.sigma as unknown[] | undefined)?.length ?? 0);
    if (t === 'Wavelet') return n + 8 * (Number(o.level ?? 1) || 1);
    return n + 1;
  }, 0);
  const progress = new Progress('features', nImages);
  return pool.extract(img, msk, settings, { only, onImage: (name) => progress.tick(name) });
}

export const featuresCommand: Command = {
  name: 'features',
  summary: 'compute PyRadiomics-compatible features for image + mask',
  help: HELP,
  async run(argv) {
    let opts;
    try {
      opts = parseOptions(argv, {
        image: { type: 'string' },
        mask: { type: 'string' },
        batch: { type: 'string' },
        label: { type: 'string' },
        params: { type: 'string' },
        only: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        'no-diagnostics': { type: 'boolean' },
        workers: { type: 'string' },
        docs: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      }).values;
      if (opts.help) {
        process.stdout.write(HELP + '\n');
        return 0;
      }
      if (opts.docs) {
        process.stdout.write(`${featureDocsMarkdown()}\n## Settings (parameter file \`setting:\`)\n\n${settingsDocsMarkdown()}\n`);
        return 0;
      }
      const format = opts.format ?? 'csv';
      if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got "${format}"`);
      if (opts.batch && (opts.image || opts.mask)) throw new UsageError('use either --batch or --image/--mask');
      if (!opts.batch && (!opts.image || !opts.mask)) throw new UsageError('--image and --mask are required (or --batch)');
      if (opts.batch && format === 'json') throw new UsageError('--format json is for a single case; use csv with --batch');
      if (opts.workers !== undefined && !/^\d+$/.test(opts.workers)) throw new UsageError(`--workers expects a positive integer, got "${opts.workers}"`);
      if (opts.label !== undefined && !/^-?\d+$/.test(opts.label)) throw new UsageError(`--label expects an integer, got "${opts.label}"`);
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`osteoscreen features: ${e.message}\n\n${HELP}\n`);
        return 2;
      }
      throw e;
    }
    const write = (text: string) => (opts.out ? writeFileSync(opts.out, text) : process.stdout.write(text));
    const pool = createRadiomicsPool({ workers: opts.workers ? Number(opts.workers) : undefined });
    try {
      let settings = opts.params ? loadParams(opts.params) : defaultSettings();
      if (opts.label !== undefined) settings = withSetting(settings, { label: Number(opts.label) });
      const only = opts.only ? opts.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      if (!opts.batch) {
        const result = await runCase(pool, opts.image!, opts.mask!, settings, only);
        if ((opts.format ?? 'csv') === 'json') write(JSON.stringify({ features: result.features, diagnostics: result.diagnostics }, null, 1) + '\n');
        else write(toCsv([{ head: { Image: opts.image!, Mask: opts.mask! }, result }], !opts['no-diagnostics']));
        return 0;
      }
      const csvPath = opts.batch;
      const lines = parseCsv(readFileSync(csvPath, 'utf8')).filter((r) => r.some((c) => c.trim() !== ''));
      if (lines.length < 2) throw new UsageError(`${csvPath}: no cases`);
      const header = lines[0]!.map((h) => h.trim());
      const col = (name: string) => header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
      const ci = col('Image'), cm = col('Mask'), cl = col('Label');
      if (ci < 0 || cm < 0) throw new UsageError(`${csvPath}: needs columns Image and Mask`);
      const dir = path.dirname(path.resolve(csvPath));
      const rows: Row[] = [];
      const progress = new Progress('cases', lines.length - 1);
      let failed = 0;
      for (const cells of lines.slice(1)) {
        const head: Record<string, string> = {};
        header.forEach((h, k) => (head[h] = cells[k] ?? ''));
        const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
        const image = resolve(cells[ci] ?? ''), mask = resolve(cells[cm] ?? '');
        let s = settings;
        if (cl >= 0 && cells[cl] && opts.label === undefined) s = withSetting(settings, { label: Number(cells[cl]) });
        try {
          rows.push({ head, result: await runCase(pool, image, mask, s, only) });
        } catch (e) {
          failed++;
          log.error('case failed', { image: path.basename(image), reason: errorMessage(e) });
        }
        progress.tick(path.basename(image));
      }
      write(toCsv(rows, !opts['no-diagnostics']));
      return failed ? 1 : 0;
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`osteoscreen features: ${e.message}\n`);
        return 2;
      }
      process.stderr.write(`osteoscreen features: ${errorMessage(e)}\n`);
      return 3;
    } finally {
      await pool.close();
    }
  },
};
