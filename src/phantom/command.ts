import { parseOptions, requireOption, numberOption, UsageError, type Command } from '../common/command.js';
import { Progress } from '../common/progress.js';
import { writePhantomStudies } from './write.js';
import { VENDORS, type Vendor } from './protocol.js';
import type { BoneState } from './anatomy.js';

const HELP = `Usage: osteoscreen phantom --out DIR [--seed N] [--count K] [--bone normal|low] [--vendor siemens|ge|philips]
                          [--enhanced] [--start I] [--roles t1,t2,...] [--fast] [--nifti-images]

Writes K synthetic lumbar-spine MRI studies as DICOM plus ground truth, deterministic for a seed.
THIS IS A SYNTHETIC PHANTOM FOR TESTS AND MODEL TRAINING. It is NOT a claim of anatomical or physical
realism and must never be used to validate clinical performance.

Each study holds a 1.5 T-like lumbar protocol: sagittal T1 TSE (TR 400-650 ms, TE 8-14 ms) and sagittal T2 TSE
(TR 2200-4000 ms, TE 85-110 ms), 10-15 slices of 4-5 mm with a 10-20 % gap, FOV 280-380 mm, matrix 256-512,
a few degrees of obliquity/in-plane rotation, plus distractors that a series selection must NOT pick:
a 3-plane localizer, a sagittal STIR (inversion recovery), an axial T2 stack and a derived/secondary copy of T1.
Anatomy (T10-S2 bodies, discs, canal, cord/cauda, posterior elements, muscle, fat, viscera), lordosis,
scoliosis, body size, slice offset and FOV vary with the seed; Rician noise, coil bias field and a vendor-like
intensity scale (Philips-like studies use RescaleSlope) are applied. Low bone mass raises the marrow fat
fraction (brighter T1, slightly brighter T2, darker STIR) and coarsens the marrow texture.

Options:
  --out DIR        output folder (created; an existing study-NNNN folder in it is replaced)
  --seed N         base seed (default 1); study i uses (seed, i)
  --count K        number of studies (default 1)
  --start I        index of the first study (default 0), to extend a batch
  --bone STATE     normal | low (default: drawn 50/50 per study)
  --vendor V       siemens | ge | philips (default: drawn per study)
  --enhanced       write each series as one Enhanced MR Image (multi-frame) instead of classic MR images
  --roles LIST     comma list of series to write: t1,t2,stir,axial-t2,localizer,derived (default all)
  --fast           no partial-volume sub-sampling (about 3x faster, slightly less realistic)
  --nifti-images   also write truth/<role>_image.nii.gz (real-valued image) for sagittal series

Output layout:
  DIR/manifest.json                         array of all study manifests written by this run
  DIR/study-0001/manifest.json              study manifest: study UID, label (bone state, 1 = low), vendor,
                                            generating parameters, and per series: role, UIDs, folder,
                                            expectedSelection (t1 | t2 | null), geometry (LPS), levels present
  DIR/study-0001/series-NN/IM0001.dcm ...   DICOM files of series number NN (one file per slice; one multi-frame
                                            file with --enhanced). Series roles are NOT in folder names.
  DIR/study-0001/truth/<role>_levels.nii.gz vertebral body level labels on the series grid:
                                            L1=1 L2=2 L3=3 L4=4 L5=5 T10=10 T11=11 T12=12 S1=20 S2=21, else 0
  DIR/study-0001/truth/<role>_tissue.nii.gz tissue classes (sagittal series): 0 background/air, 1 vertebral
                                            marrow, 2 cortical bone, 3 disc, 4 CSF, 5 cord/cauda, 6 posterior
                                            elements, 7 muscle, 8 subcutaneous fat, 9 other soft tissue
  roles: t1, t2, stir, axial-t2 (levels only), derived; the localizer has no truth maps.
  NIfTI files are in RAS world space (sform = qform) and land exactly on the DICOM series in patient space.

Examples:
  osteoscreen phantom --out /tmp/ph --seed 7 --count 20
  osteoscreen phantom --out /tmp/train --seed 100 --count 500 --roles t1,t2 --bone low
`;

const ROLES = ['t1', 't2', 'stir', 'axial-t2', 'localizer', 'derived'] as const;

export const phantomCommand: Command = {
  name: 'phantom',
  summary: 'write synthetic lumbar MRI phantom studies (tests/training only)',
  help: HELP,
  async run(argv) {
    const { values } = parseOptions(argv, {
      out: { type: 'string' },
      seed: { type: 'string' },
      count: { type: 'string' },
      start: { type: 'string' },
      bone: { type: 'string' },
      vendor: { type: 'string' },
      enhanced: { type: 'boolean' },
      roles: { type: 'string' },
      fast: { type: 'boolean' },
      'nifti-images': { type: 'boolean' },
    });
    const out = requireOption(values.out, '--out');
    const seed = numberOption(values.seed, '--seed', 1);
    const count = numberOption(values.count, '--count', 1);
    const start = numberOption(values.start, '--start', 0);
    if (!Number.isInteger(seed)) throw new UsageError('--seed expects an integer');
    if (!Number.isInteger(count) || count < 1) throw new UsageError('--count expects a positive integer');
    if (!Number.isInteger(start) || start < 0) throw new UsageError('--start expects a non-negative integer');
    let bone: BoneState | undefined;
    if (values.bone !== undefined) {
      if (values.bone !== 'normal' && values.bone !== 'low') throw new UsageError('--bone expects normal or low');
      bone = values.bone;
    }
    let vendor: Vendor | undefined;
    if (values.vendor !== undefined) {
      if (!(VENDORS as readonly string[]).includes(values.vendor)) throw new UsageError(`--vendor expects one of ${VENDORS.join(', ')}`);
      vendor = values.vendor as Vendor;
    }
    let roles: (typeof ROLES)[number][] | undefined;
    if (values.roles !== undefined) {
      const r = values.roles.split(',').map((x) => x.trim()).filter(Boolean);
      for (const x of r) if (!(ROLES as readonly string[]).includes(x)) throw new UsageError(`--roles: unknown role "${x}" (use ${ROLES.join(', ')})`);
      roles = r as (typeof ROLES)[number][];
    }
    const progress = new Progress('phantom', count);
    const manifests = writePhantomStudies({
      out,
      seed,
      count,
      start,
      bone,
      vendor,
      enhanced: !!values.enhanced,
      roles,
      subSamples: values.fast ? 1 : undefined,
      niftiImages: !!values['nifti-images'],
      onStudy: (m) => progress.tick(`${m.dir} ${m.vendor} ${m.bone}`),
    });
    const low = manifests.filter((m) => m.bone === 'low').length;
    process.stdout.write(`wrote ${manifests.length} studies (${low} low bone mass, ${manifests.length - low} normal) to ${out}\n`);
    return 0;
  },
};
