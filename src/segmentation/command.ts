import type { Command } from '../common/command.js';
import { DEFAULT_ROI_SPEC } from './roi.js';
import { numberOption, parseOptions, requireOption, UsageError } from '../common/command.js';
import { loadConfig, resolveInstallPath } from '../config/load.js';
import { writeNifti } from '../volume/nifti.js';
import { analyseSeries, type Sequence } from './analyse.js';
import { loadSeries } from './io.js';
import { Segmenter } from './segmenter.js';

export const segmentCommand: Command = {
  name: 'segment',
  summary: 'segment L1-L5 vertebral bodies of a series',
  help: `Usage: osteoscreen segment --series DIR_OR_FILE --out MASK.nii.gz [--roi ROI.nii.gz] [--json] [options]

Segments the vertebral bodies of one sagittal lumbar series, labels the levels by counting up from the sacrum
and applies the QA gate (body count, level identification, size/shape plausibility, contrast).
  --series P       DICOM folder of one series, one DICOM file, or a NIfTI volume (.nii/.nii.gz)
  --out F          level mask on the series' voxel grid (NIfTI, RAS sform/qform):
                   L1=1 .. L5=5, T12=12, T11=11, T10=10, S1=20 (0 when the QA gate fails)
  --roi F          ROI mask (1..4 = L1..L4: mid-sagittal slice +-1, eroded by --erosion-mm)
  --json           print levels, per-body volume and the QA verdict as JSON on stdout
  --sequence S     T1 or T2: also check the fat/water contrast for that sequence
  --erosion-mm X   in-plane erosion of each body for the ROI (default: segmentation.erosionMm if set, else 1.5 as the
                   shipped model's extraction.roi)
  --model F        ONNX model (default: segmentation.model)
  --threads N      onnxruntime threads (default: segmentation.threads)
  --config F       config file
Exit code: 0 assessable, 4 not assessable (reason on stderr / in the JSON), 1 error, 2 usage.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      series: { type: 'string' },
      out: { type: 'string' },
      roi: { type: 'string' },
      json: { type: 'boolean' },
      sequence: { type: 'string' },
      'erosion-mm': { type: 'string' },
      model: { type: 'string' },
      threads: { type: 'string' },
      config: { type: 'string' },
    });
    const series = requireOption(values.series, '--series');
    const out = requireOption(values.out, '--out');
    let sequence: Sequence | undefined;
    if (values.sequence !== undefined) {
      const s = values.sequence.toUpperCase();
      if (s !== 'T1' && s !== 'T2') throw new UsageError(`--sequence expects T1 or T2, got "${values.sequence}"`);
      sequence = s;
    }
    const cfg = loadConfig({ file: values.config });
    const erosionMm = numberOption(values['erosion-mm'], '--erosion-mm', cfg.segmentation.erosionMm ?? DEFAULT_ROI_SPEC.erosionMm);
    const threads = numberOption(values.threads, '--threads', cfg.segmentation.threads);
    const model = values.model ?? resolveInstallPath(cfg.segmentation.model);
    const vol = await loadSeries(series);
    const seg = await Segmenter.load(model, { threads });
    const t0 = performance.now();
    const res = await analyseSeries(vol, seg, sequence, { roi: { ...DEFAULT_ROI_SPEC, erosionMm } });
    const seconds = (performance.now() - t0) / 1000;
    const empty = new Uint8Array(vol.data.length);
    const geom = { dims: vol.dims, spacing: vol.spacing, origin: vol.origin, direction: vol.direction };
    writeNifti(out, { ...geom, data: res.ok && res.levels ? res.levels.data : empty, description: 'OsteoScreen vertebral levels' });
    if (values.roi) writeNifti(values.roi, { ...geom, data: res.ok && res.roi ? res.roi.data : empty, description: 'OsteoScreen L1-L4 ROI' });
    if (values.json) {
      const report = {
        ok: res.ok,
        reason: res.reason ?? null,
        sequence: sequence ?? null,
        levels: res.bodies.map((b) => ({
          level: b.level,
          label: b.label,
          volumeMm3: Math.round(b.volumeMm3),
          centroidLps: b.centroid.map((x) => Math.round(x * 10) / 10),
          midSlice: b.midSlice,
          heightMm: b.heightMm === undefined ? undefined : Math.round(b.heightMm * 10) / 10,
          depthMm: b.depthMm === undefined ? undefined : Math.round(b.depthMm * 10) / 10,
        })),
        roiVoxels: res.roiVoxels ?? null,
        csfToBodyRatio: res.csfToBodyRatio ?? null,
        fatToBodyRatio: res.fatToBodyRatio ?? null,
        seconds: Math.round(seconds * 1000) / 1000,
      };
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    }
    if (!res.ok) {
      process.stderr.write(`osteoscreen segment: not assessable: ${res.reason}\n`);
      return 4;
    }
    return 0;
  },
};
