import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../common/command.js';
import { numberOption, parseOptions, UsageError } from '../common/command.js';
import { loadConfig, resolveInstallPath } from '../config/load.js';
import { loadModel } from './load.js';
import { radiomicsSettingsOf, roiSpecOf } from './extraction.js';
import type { LabelMap, Volume } from '../volume/types.js';
import { analyseSeries, type Sequence } from '../segmentation/analyse.js';
import { busiestSlice, renderOverlay } from '../segmentation/overlay.js';
import { evaluateCase, findCases } from '../segmentation/real-eval.js';
import { agreementMarkdown, agreementTable, casesCsv, featureList, measureCase, type Agreement, type CaseFeatures, type FeatureExtractor, ExpertRoiError } from './roi-eval.js';
import { createRadiomicsPool } from '../radiomics/parallel.js';
import { ROI_LEVELS } from '../segmentation/roi.js';
import { Segmenter } from '../segmentation/segmenter.js';

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const g4 = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : '-');

function formatAgreement(r: Agreement): string {
  const rule = Number.isFinite(r.icc.icc) ? (r.icc.icc > 0.75 ? 'ICC>0.75' : 'FAILS ICC>0.75') : '';
  return (
    `${r.sequence} ${r.feature.padEnd(52)} n ${String(r.n).padStart(2)}  ICC(A,1) ${f2(r.icc.icc)} [${f2(r.icc.lower)}, ${f2(r.icc.upper)}]  ` +
    `bias ${g4(r.ba.bias)} LoA ${g4(r.ba.loaLower)}..${g4(r.ba.loaUpper)}  bias/SD ${f2(r.biasOverSd)}  ` +
    `med rel diff ${r.medianRelDiff.toFixed(3)}  auto/expert ${f2(r.meanAuto / r.meanExpert)}  ${rule}`
  );
}

/** Overlay of one case: our ROI filled (L1..L4 colours), the expert ROI outlined (cyan), on the expert ROI's busiest slice. */
function overlayPng(vol: Volume, c: CaseFeatures, title: string): Buffer {
  const slice = busiestSlice(c.expertRoi, new Set([1, 2, 3, 4]));
  const lines = [
    `filled: automatic ROI; cyan outline: expert ROI (same rule on the expert mask); slice ${slice}`,
    ...ROI_LEVELS.map((l) => `${l}: mid slice expert ${c.roi.expertMid[l] ?? '-'} / auto ${c.roi.autoMid[l] ?? '-'}; ROI voxels expert ${c.roi.expertVoxels[l]} / auto ${c.roi.autoVoxels[l]}; ROI Dice ${f2(c.roi.dice[l])}`),
    `voxels only in expert ROI ${c.roi.expertOnly}, only in automatic ROI ${c.roi.autoOnly}${c.reason ? `; refused: ${c.reason}` : ''}`,
  ];
  return renderOverlay({ vol, levels: c.autoRoi ?? undefined, truth: c.expertRoi, slice, title, lines });
}

export const roiEvalCommand: Command = {
  name: 'roi-eval',
  summary: 'feature agreement between the automatic ROI and an expert ROI made by the same rule (ICC, Bland-Altman)',
  help: `Usage: osteoscreen roi-eval --cases DIR [--out DIR] [--features model|all] [options]
       osteoscreen roi-eval --phantom N [--seed S] [--out DIR] [options]

Does the automatic ROI measure what an expert's ROI measures? For every caseNN/ of DIR (laid out like
shared/real-lumbar-dev: caseNN/dicom/ and an expert level mask *vertebrae*.nii.gz on the same grid, L1..L5 = 1..5)
  - the expert ROI is the radscore model's ROI rule (extraction.roi: L1-L4, mid-sagittal slice +-1, in-plane
    erosion) applied to the expert mask, mid slices from the expert bodies' own centroids;
  - the automatic ROI is the analysis' own (as \`osteoscreen segment --roi\` writes it; no contrast check);
  - both are measured on the pooled L1-L4 ROI with the model's extraction settings (the service's features stage).
Prints per feature: n, ICC(A,1) (= Shrout-Fleiss ICC(2,1)) with its McGraw-Wong 95 % CI, Bland-Altman bias and
95 % limits of agreement (auto - expert), bias / between-patient SD, median relative difference and the study's
inclusion rule ICC > 0.75; for the model's terms also the partial radscore of the sequence (model coefficients,
z with means/SDs fitted on the expert values of the same cases). Refused series are listed and left out.
  --cases DIR        folder of caseNN/ folders (real series with expert masks)
  --only A,B         only these case names
  --trained A,B      cases the segmentation model was trained on: tables are printed for all cases and for the
                     held-out ones (the others) apart
  --sequence S       which of the model's terms the series are measured for: T2 (default) or T1
  --phantom N        instead: N generated phantom studies (T1 + T2) measured against the phantom's
                     ground-truth level maps -- the only T1 evidence; phantom, not patients
  --seed S           phantom seed (default 20261126, never used in training)
  --fast             phantom rendering without partial-volume sub-sampling (tests)
  --features W       model (default: the model's terms) or all (every feature of the extraction; slow)
  --out DIR          write DIR/cases.csv (per case: mid slices, ROI voxels and Dice per level, expert and automatic
                     value of every feature, partial radscores), DIR/agreement.md, DIR/agreement.json and
                     DIR/<case>.png (automatic ROI filled, expert ROI outlined in cyan)
  --radscore F       radscore model whose extraction.roi and settings are used (default: config model.file)
  --model F          ONNX segmentation model (default: segmentation.model)
  --threads N        onnxruntime threads (default: segmentation.threads)
  --workers N        radiomics worker threads (default: number of CPUs; 1 = no threads)
  --config F         config file
Exit code: 0 done (whatever the figures), 1 error, 2 usage.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      cases: { type: 'string' },
      only: { type: 'string' },
      trained: { type: 'string' },
      sequence: { type: 'string' },
      phantom: { type: 'string' },
      seed: { type: 'string' },
      fast: { type: 'boolean' },
      features: { type: 'string' },
      out: { type: 'string' },
      radscore: { type: 'string' },
      model: { type: 'string' },
      threads: { type: 'string' },
      workers: { type: 'string' },
      config: { type: 'string' },
    });
    if (!values.cases === !values.phantom) throw new UsageError('give --cases DIR or --phantom N');
    const which = (values.features ?? 'model') as 'model' | 'all';
    if (which !== 'model' && which !== 'all') throw new UsageError(`--features expects model or all, got "${values.features}"`);
    const seqRaw = (values.sequence ?? 'T2').toUpperCase();
    if (seqRaw !== 'T1' && seqRaw !== 'T2') throw new UsageError(`--sequence expects T1 or T2, got "${values.sequence}"`);
    const cfg = loadConfig({ file: values.config });
    const radscore = loadModel(values.radscore ?? resolveInstallPath(cfg.model.file));
    const spec = roiSpecOf(radscore, cfg.segmentation.erosionMm);
    const settings = radiomicsSettingsOf(radscore);
    const threads = numberOption(values.threads, '--threads', cfg.segmentation.threads);
    const segModel = values.model ?? resolveInstallPath(cfg.segmentation.model);
    const seg = await Segmenter.load(segModel, { threads });
    const trained = new Set((values.trained ?? '').split(',').map((s) => s.trim()).filter(Boolean));
    if (values.out) mkdirSync(values.out, { recursive: true });
    const t0 = performance.now();
    const cases: CaseFeatures[] = [];
    // measured as \`osteoscreen features\` measures: the radiomics engine's worker pool
    const pool = createRadiomicsPool({ workers: values.workers ? numberOption(values.workers, '--workers', 2) : undefined });
    const extract: FeatureExtractor = (img, mask, s, o) => pool.extract(img, mask, s, o);
    let pending: Promise<void> = Promise.resolve();
    const skipped: string[] = [];
    const skip = (e: unknown) => {
      if (!(e instanceof ExpertRoiError)) throw e;
      skipped.push(e.message);
      process.stderr.write(`roi-eval: ${e.message}\n`);
    };
    try {
      const done = (c: CaseFeatures, vol: Volume, title: string) => {
        cases.push(c);
        const mids = ROI_LEVELS.map((l) => `${l} ${c.roi.expertMid[l] ?? '-'}/${c.roi.autoMid[l] ?? '-'} Dice ${f2(c.roi.dice[l])}`).join('  ');
        process.stdout.write(`${c.name.padEnd(12)} ${c.sequence} ${c.ok ? 'assessable' : 'REFUSED   '}${c.levelsWrong ? ' LEVELS WRONG' : ''}${c.trained ? ' (trained)' : ''}  mid slice expert/auto, ROI Dice: ${mids}${c.reason ? `  reason: ${c.reason}` : ''}\n`);
        if (values.out) writeFileSync(path.join(values.out, `${c.name}${c.name.includes(c.sequence) ? '' : `-${c.sequence}`}.png`), overlayPng(vol, c, title));
      };
      if (values.cases) {
        const sequence = seqRaw as Sequence;
        let list = findCases(values.cases);
        if (values.only) {
          const want = new Set(values.only.split(',').map((s) => s.trim()));
          list = list.filter((c) => want.has(c.name));
        }
        if (!list.length) throw new UsageError(`no caseNN/ folders with a series and a mask under ${values.cases}`);
        process.stderr.write(`roi-eval: ${list.length} cases, ROI ${JSON.stringify(spec)}, features ${which}\n`);
        for (const c of list) {
          // no contrast check, as `osteoscreen segment --roi` without --sequence
          const e = await evaluateCase(c, seg, { roi: spec });
          // the features of this case run in the pool's workers while the next case is segmented
          await pending;
          pending = measureCase({ name: c.name, trained: trained.has(c.name), sequence, vol: e.vol, truth: e.truth, analysis: e.analysis, spec, settings, only: featureList(radscore, sequence, which), extract, levelsRight: e.result.levelsRight }).then((m) =>
            done(m, e.vol, `${c.name}: automatic vs expert ROI${m.ok ? '' : ' (REFUSED)'}`),
          ).catch(skip);
        }
      } else {
        const { generateStudy, VENDORS } = await import('../phantom/index.js');
        const count = numberOption(values.phantom, '--phantom', 0);
        if (!(count >= 2)) throw new UsageError('--phantom expects a count >= 2');
        const seed = numberOption(values.seed, '--seed', 20261126);
        process.stderr.write(`roi-eval: ${count} phantom studies (seed ${seed}), ROI ${JSON.stringify(spec)}, features ${which}\n`);
        for (let n = 0; n < count; n++) {
          const st = generateStudy({ seed, index: n, vendor: VENDORS[n % VENDORS.length], bone: n % 2 ? 'low' : 'normal', roles: ['t1', 't2'], subSamples: values.fast ? 1 : undefined });
          for (const [role, sequence] of [['t1', 'T1'], ['t2', 'T2']] as const) {
            const s = st.series.find((x) => x.role === role)!;
            const vol = { ...s.geometry!, data: s.image } as Volume;
            const truth = { ...s.geometry!, data: s.levels } as LabelMap;
            const analysis = await analyseSeries(vol, seg, sequence, { roi: spec });
            const name = `phantom${String(n).padStart(2, '0')}-${sequence}`;
            await pending;
            pending = measureCase({ name, trained: false, sequence, vol, truth, analysis, spec, settings, only: featureList(radscore, sequence, which), extract }).then((m) =>
              done(m, vol, `${name}: automatic vs ground-truth ROI (PHANTOM)`),
            );
          }
        }
      }
      await pending;
    } finally {
      await pool.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const tables: { title: string; rows: Agreement[] }[] = [];
    const label = values.phantom ? 'phantom ground-truth masks (not patients)' : 'expert masks';
    tables.push({ title: `all cases, ${label}`, rows: agreementTable(radscore, cases) });
    if (trained.size) tables.push({ title: `held-out cases (not used to train the segmentation), ${label}`, rows: agreementTable(radscore, cases.filter((c) => !c.trained)) });
    if (cases.some((c) => c.levelsWrong)) tables.push({ title: `accepted cases with the right levels only, ${label}`, rows: agreementTable(radscore, cases.filter((c) => !c.levelsWrong)) });
    const refused = cases.filter((c) => !c.ok);
    const wrong = cases.filter((c) => c.levelsWrong);
    for (const t of tables) {
      process.stdout.write(`\n== agreement, automatic vs expert ROI: ${t.title}\n`);
      for (const r of t.rows) process.stdout.write(formatAgreement(r) + '\n');
    }
    process.stdout.write(
      `\n${cases.length} series, ${refused.length} refused${refused.length ? ` (${refused.map((c) => c.name).join(', ')})` : ''}` +
        `${skipped.length ? `; ${skipped.length} left out (no expert ROI by the rule)` : ''}` +
        `${wrong.length ? `; ${wrong.length} accepted with WRONG levels, their ROIs measure other bodies (${wrong.map((c) => c.name).join(', ')})` : ''}; ${seconds.toFixed(1)} s\n`,
    );
    if (values.out) {
      writeFileSync(path.join(values.out, 'cases.csv'), casesCsv(cases, radscore));
      writeFileSync(
        path.join(values.out, 'agreement.md'),
        tables.map((t) => `### ${t.title}\n\nROI rule: ${JSON.stringify(spec)}; radscore ${radscore.name} ${radscore.version}\n\n${agreementMarkdown(t.rows)}\n`).join('\n'),
      );
      writeFileSync(path.join(values.out, 'agreement.json'), JSON.stringify({ roi: spec, radscore: `${radscore.name} ${radscore.version}`, seconds, tables }, null, 1) + '\n');
    }
    return 0;
  },
};
