/**
 * `npm run bench -- segment [--series N] [--threads T] [--model F]`: seconds per series (15 x 320 x 320 sagittal
 * phantom T1, FOV 330 mm, 5 mm + 0.5 mm gap, as in the reference study) for the full single-series analysis
 * (segmentation + labelling + QA + ROI), after one warm-up run, and the process's peak RSS.
 * Target: <= 2 s per series on 2 CPU cores, RSS <= 600 MB. `--real DIR` also times the first N real series of a folder
 * laid out like shared/real-lumbar-dev (39 x 381 x 381 there: about 3.5 times the phantom's voxels).
 */
import { parseOptions, numberOption } from '../common/command.js';
import { loadConfig, resolveInstallPath } from '../config/load.js';
import { Segmenter } from '../segmentation/segmenter.js';
import { analyseSeries } from '../segmentation/analyse.js';
import { simulateStudy } from '../phantom/train-data.js';
import type { Volume } from '../volume/types.js';

export async function benchSegment(args: string[]): Promise<void> {
  const { values } = parseOptions(args, { series: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' }, config: { type: 'string' }, real: { type: 'string' } });
  const cfg = loadConfig({ file: values.config });
  const n = numberOption(values.series, '--series', 5);
  const threads = numberOption(values.threads, '--threads', cfg.segmentation.threads);
  const model = values.model ?? resolveInstallPath(cfg.segmentation.model);
  const vols: Volume[] = [];
  for (let s = 0; s <= n; s++) {
    const st = simulateStudy('bench-segment', s, ['T1'], { matrix: 320, slices: 15, fovMm: 330, thicknessMm: 5, gapMm: 0.5 });
    vols.push({ ...st.geometry, data: st.images.T1! });
  }
  const tLoad = performance.now();
  const seg = await Segmenter.load(model, { threads });
  const loadS = (performance.now() - tLoad) / 1000;
  await analyseSeries(vols[0], seg, 'T1'); // warm-up
  const times: number[] = [];
  let ok = 0;
  for (let s = 1; s <= n; s++) {
    const t0 = performance.now();
    const r = await analyseSeries(vols[s], seg, 'T1');
    times.push((performance.now() - t0) / 1000);
    if (r.ok) ok++;
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const lines = [
    `segment benchmark: ${n} series of 15 x 320 x 320 (sagittal T1 phantom), threads=${threads}, model=${model}`,
    `  model load            ${loadS.toFixed(2)} s`,
    `  seconds per series    mean ${mean.toFixed(3)}  median ${times[Math.floor(times.length / 2)].toFixed(3)}  max ${times[times.length - 1].toFixed(3)}   (target <= 2 s)`,
    `  peak RSS              ${peakRssMb.toFixed(0)} MB   (target <= 600 MB)`,
    `  assessable            ${ok}/${n}`,
  ];
  if (values.real) {
    // Real series (folders laid out like shared/real-lumbar-dev): the same analysis, timed per series.
    const { findCases } = await import('../segmentation/real-eval.js');
    const { loadSeries } = await import('../segmentation/io.js');
    const rt: number[] = [];
    let dims = '';
    for (const c of findCases(values.real).slice(0, n)) {
      const vol = await loadSeries(c.series);
      dims = vol.dims.slice().reverse().join(' x ');
      const t0 = performance.now();
      await analyseSeries(vol, seg, 'T2');
      rt.push((performance.now() - t0) / 1000);
    }
    if (rt.length) {
      rt.sort((a, b) => a - b);
      const m = rt.reduce((a, b) => a + b, 0) / rt.length;
      lines.push(`  real series (${rt.length} of ${dims}, ${values.real}): mean ${m.toFixed(3)}  max ${rt[rt.length - 1].toFixed(3)} s`);
      lines.push(`  peak RSS after real  ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}
