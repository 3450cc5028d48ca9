import { mkdirSync, writeFileSync } from 'node:fs';
import { DEFAULT_ROI_SPEC } from './roi.js';
import path from 'node:path';
import type { Command } from '../common/command.js';
import { numberOption, parseOptions, UsageError } from '../common/command.js';
import { loadConfig, resolveInstallPath } from '../config/load.js';
import { type Sequence } from './analyse.js';
import { evaluateHeldOut, reportTable } from './evaluate.js';
import { busiestSlice, renderOverlay } from './overlay.js';
import { evaluateCase, findCases, formatRow, formatSummary, summarise, type CaseResult } from './real-eval.js';
import { Segmenter } from './segmenter.js';

export const segmentEvalCommand: Command = {
  name: 'segment-eval',
  summary: 'evaluate segmentation, level labels and the QA gate on labelled cases (real or phantom)',
  help: `Usage: osteoscreen segment-eval --cases DIR [--out DIR] [options]
       osteoscreen segment-eval --phantom N [--seed S]

Runs the full single-series analysis (segmentation, level labelling, QA gate, ROI) on every caseNN/ of DIR,
laid out like shared/real-lumbar-dev: caseNN/dicom/ (one sagittal series) and an expert level mask
caseNN/*vertebrae*.nii.gz (or *mask* / *label*) on the same voxel grid (L1..L5 = 1..5, T12 = 12, T11 = 11).
Prints one row per case (verdict, reason, Dice per level, whether every level is right) and a summary line.
  --cases DIR      folder of caseNN/ folders
  --only A,B       evaluate only these case names
  --out DIR        write DIR/<case>.png (mid-sagittal overlay: expert outlines cyan, our levels filled,
                   raw sacrum green, CSF blue) and DIR/results.json
  --debug          print under each row how the level labelling read the column (kept/dropped, S1 evidence)
  --sequence S     T1 or T2: also run the fat/water contrast check (default T2)
  --phantom N      instead: the held-out phantom evaluation on N generated studies (T1 + T2, with the bad
                   inputs: no sacrum in the field of view, T2 passed as T1, blank)
  --seed S         phantom generator seed for --phantom (default 20261126; never used in training)
  --model F        ONNX model (default: segmentation.model)
  --threads N      onnxruntime threads (default: segmentation.threads)
  --config F       config file
Exit code: 0 done (whatever the figures), 1 error, 2 usage.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      cases: { type: 'string' },
      only: { type: 'string' },
      debug: { type: 'boolean' },
      out: { type: 'string' },
      sequence: { type: 'string' },
      phantom: { type: 'string' },
      seed: { type: 'string' },
      model: { type: 'string' },
      threads: { type: 'string' },
      config: { type: 'string' },
    });
    if (!values.cases && !values.phantom) throw new UsageError('give --cases DIR or --phantom N');
    const cfg = loadConfig({ file: values.config });
    const threads = numberOption(values.threads, '--threads', cfg.segmentation.threads);
    const model = values.model ?? resolveInstallPath(cfg.segmentation.model);
    const seg = await Segmenter.load(model, { threads });
    const roi = { ...DEFAULT_ROI_SPEC, erosionMm: cfg.segmentation.erosionMm ?? DEFAULT_ROI_SPEC.erosionMm };
    if (values.phantom) {
      const count = numberOption(values.phantom, '--phantom', 0);
      if (!(count >= 1)) throw new UsageError('--phantom expects a count >= 1');
      const r = await evaluateHeldOut(seg, { seed: numberOption(values.seed, '--seed', 20261126), count, roi, log: (s) => process.stderr.write(s + '\n') });
      process.stdout.write(reportTable(r) + '\n');
      return 0;
    }
    const seqRaw = (values.sequence ?? 'T2').toUpperCase();
    if (seqRaw !== 'T1' && seqRaw !== 'T2') throw new UsageError(`--sequence expects T1 or T2, got "${values.sequence}"`);
    const sequence = seqRaw as Sequence;
    let cases = findCases(values.cases!);
    if (values.only) {
      const want = new Set(values.only.split(',').map((s) => s.trim()));
      cases = cases.filter((c) => want.has(c.name));
    }
    if (!cases.length) throw new UsageError(`no caseNN/ folders with a series and a mask under ${values.cases}`);
    if (values.out) mkdirSync(values.out, { recursive: true });
    const results: CaseResult[] = [];
    process.stderr.write(`segment-eval: ${cases.length} cases, model ${model}\n`);
    for (const [n, c] of cases.entries()) {
      process.stderr.write(`[${n + 1}/${cases.length}] ${c.name} ...\n`);
      const e = await evaluateCase(c, seg, { sequence, roi });
      results.push(e.result);
      process.stdout.write(formatRow(e.result) + '\n');
      if (values.debug) for (const l of e.analysis.debug ?? []) process.stdout.write(`    ${l}\n`);
      if (values.out) {
        const slice = busiestSlice(e.truth, new Set([1, 2, 3, 4, 5]));
        const r = e.result;
        const png = renderOverlay({
          vol: e.vol,
          classes: e.analysis.classes,
          levels: e.analysis.levels,
          truth: e.truth,
          slice,
          title: `${c.name} slice ${slice}: ${r.ok ? 'assessable' : 'REFUSED'}${r.levelsRight === false ? ' - LEVELS WRONG' : ''}  mean Dice L1-L4 ${r.meanDiceL1L4.toFixed(3)}`,
          lines: [r.reason ?? '', ...(e.analysis.debug ?? []).slice(0, 6)].filter(Boolean),
        });
        writeFileSync(path.join(values.out, `${c.name}.png`), png);
      }
    }
    const s = summarise(results);
    process.stdout.write(formatSummary(s) + '\n');
    if (values.out) writeFileSync(path.join(values.out, 'results.json'), JSON.stringify({ model, summary: s, cases: results }, null, 1) + '\n');
    return 0;
  },
};
