import { mkdirSync, writeFileSync } from 'node:fs';
import { DEFAULT_ROI_SPEC } from './roi.js';
import path from 'node:path';
import type { Command } from '../common/command.js';
import { numberOption, parseOptions, UsageError } from '../common/command.js';
import { loadConfig, resolveInstallPath } from '../config/load.js';
import { type Sequence } from './analyse.js';
import { evaluateHeldOut, reportTable } from './evaluate.js';
import { busiestSlice, renderOverlay } from './overlay.js';
import { evaluateCase, findCases, formatRow, formatSummary, summarise, type CaseResult, type EvaluatedCase } from './real-eval.js';
import { Segmenter } from './segmenter.js';

const VOTE_COLOR = { for: '#7CFC00', against: '#FF5050' } as const;

/** The evaluation picture of one case: the busiest expert slice, with every S1 evidence vote at its element. */
function caseOverlay(e: EvaluatedCase): Buffer {
  const slice = busiestSlice(e.truth, new Set([1, 2, 3, 4, 5]));
  const r = e.result;
  return renderOverlay({
    vol: e.vol,
    classes: e.analysis.classes,
    levels: e.analysis.levels,
    truth: e.truth,
    slice,
    title: `${r.name} slice ${slice}: ${r.ok ? 'assessable' : 'REFUSED'}${r.levelsRight === false ? ' - LEVELS WRONG' : ''}  mean Dice L1-L4 ${r.meanDiceL1L4.toFixed(3)}`,
    lines: [r.reason ?? '', ...(e.analysis.debug ?? []).filter((l) => /^(column|sacrum class|lumbosacral|disc pattern|thecal sac|S1 candidate)/.test(l))].filter(Boolean),
    markers: (e.analysis.evidence ?? []).map((m) => ({
      index: m.centroidIndex,
      text: `${m.chosen ? '*' : ''}${m.support === 'for' ? '+' : '-'}${m.strength === 'strong' ? 'S' : 'w'} ${m.evidence}`,
      color: VOTE_COLOR[m.support],
    })),
  });
}

export const segmentEvalCommand: Command = {
  name: 'segment-eval',
  summary: 'evaluate segmentation, level labels and the QA gate on labelled cases (real or phantom)',
  help: `Usage: osteoscreen segment-eval --cases DIR[,DIR...] [--out DIR] [options]
       osteoscreen segment-eval --phantom N [--seed S]

Runs the full single-series analysis (segmentation, level labelling, QA gate, ROI) on every caseNN/ of each DIR
(one DIR per site), laid out like shared/real-lumbar-dev or shared/real-lumbar-3t: caseNN/dicom/ (one sagittal
series) and an expert level mask caseNN/*vertebrae*.nii.gz (or *mask* / *label*) on the same voxel grid
(L1..L5 = 1..5, T12 = 12, T11 = 11; a site may trace L1-L5 only).
Prints one row per case (verdict, reason, Dice per level, whether every level is right), one "site" line per
DIR when there are several, and a summary line. Wrong-level acceptances (an accepted case with any level wrong:
the error that must never reach a radiologist) are counted apart from refusals.
  --cases DIR,...  folder(s) of caseNN/ folders, one per site
  --only A,B       evaluate only these case names
  --out DIR        write DIR/<site>/<case>.png (mid-sagittal overlay: expert outlines cyan, our levels filled,
                   raw sacrum green, CSF blue, and every piece of S1 evidence at the element it voted on:
                   + for, - against, S strong, w weak, * the element chosen as S1) and DIR/results.json
  --debug          print under each row how the level labelling read the column (kept/dropped, S1 evidence)
  --allow-wrong-levels  exit 0 even when a case was accepted with a wrong level (while exploring)
  --sequence S     T1 or T2: also run the fat/water contrast check (default T2)
  --phantom N      instead: the held-out phantom evaluation on N generated studies (T1 + T2, with the bad
                   inputs: no sacrum in the field of view, T2 passed as T1, blank)
  --seed S         phantom generator seed for --phantom (default 20261126; never used in training)
  --model F        ONNX model (default: segmentation.model)
  --threads N      onnxruntime threads (default: segmentation.threads)
  --config F       config file
Exit code: 0 done, 1 error or (without --allow-wrong-levels) at least one wrong-level acceptance, 2 usage.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      cases: { type: 'string' },
      only: { type: 'string' },
      debug: { type: 'boolean' },
      'allow-wrong-levels': { type: 'boolean' },
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
    const sites = values.cases!.split(',').map((d) => d.trim()).filter(Boolean);
    const want = values.only ? new Set(values.only.split(',').map((x) => x.trim())) : undefined;
    const bySite = sites.map((dir) => ({ dir, name: path.basename(path.resolve(dir)), cases: findCases(dir).filter((c) => !want || want.has(c.name)) }));
    const total = bySite.reduce((n, s) => n + s.cases.length, 0);
    if (!total) throw new UsageError(`no caseNN/ folders with a series and a mask under ${values.cases}`);
    if (values.out) mkdirSync(values.out, { recursive: true });
    const results: CaseResult[] = [];
    const siteLines: string[] = [];
    const siteJson: Record<string, unknown> = {};
    process.stderr.write(`segment-eval: ${total} cases at ${sites.length} site(s), model ${model}\n`);
    let n = 0;
    for (const site of bySite) {
      const siteResults: CaseResult[] = [];
      const outDir = values.out ? (sites.length > 1 ? path.join(values.out, site.name) : values.out) : undefined;
      if (outDir) mkdirSync(outDir, { recursive: true });
      for (const c of site.cases) {
        process.stderr.write(`[${++n}/${total}] ${sites.length > 1 ? `${site.name}/` : ''}${c.name} ...\n`);
        const e = await evaluateCase(c, seg, { sequence, roi });
        siteResults.push(e.result);
        process.stdout.write(formatRow(e.result) + '\n');
        if (values.debug) for (const l of e.analysis.debug ?? []) process.stdout.write(`    ${l}\n`);
        if (outDir) writeFileSync(path.join(outDir, `${c.name}.png`), caseOverlay(e));
      }
      results.push(...siteResults);
      const s = summarise(siteResults);
      siteJson[site.name] = { summary: s, cases: siteResults };
      if (sites.length > 1) siteLines.push(formatSummary(s, site.name));
    }
    for (const l of siteLines) process.stdout.write(l + '\n');
    const s = summarise(results);
    process.stdout.write(formatSummary(s) + '\n');
    if (values.out) writeFileSync(path.join(values.out, 'results.json'), JSON.stringify({ model, summary: s, sites: siteJson, cases: results }, null, 1) + '\n');
    if (s.wrongLevelAcceptances > 0 && !values['allow-wrong-levels']) {
      process.stderr.write(`segment-eval: ${s.wrongLevelAcceptances} case(s) accepted with a wrong level (see "levels WRONG" above); exit 1 (--allow-wrong-levels to explore)\n`);
      return 1;
    }
    return 0;
  },
};
