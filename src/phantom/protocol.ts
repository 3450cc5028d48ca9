/** Vendor-like protocol parameters and series descriptions for the phantom generator. */
import type { Rng } from './rng.js';
import type { Contrast } from './render.js';

export type Vendor = 'siemens' | 'ge' | 'philips';
export const VENDORS: readonly Vendor[] = ['siemens', 'ge', 'philips'];

/** Roles of generated series. Only 't1' and 't2' must be selected; the others are distractors. */
export type SeriesRole = 't1' | 't2' | 'stir' | 'axial-t2' | 'localizer' | 'derived';

export interface VendorStyle {
  manufacturer: string;
  model: string;
  /** intensity of a relative value 1.0 in real-world units */
  scale: number;
  bitsStored: number;
  /** stored = real / slope (Philips-like); 1 = no rescale */
  slopeRange: [number, number];
  descriptions: Record<SeriesRole, string[]>;
  seriesNumber: (order: number) => number;
}

export const VENDOR_STYLE: Record<Vendor, VendorStyle> = {
  siemens: {
    manufacturer: 'SIEMENS',
    model: 'Avanto',
    scale: 1000,
    bitsStored: 12,
    slopeRange: [1, 1],
    descriptions: {
      t1: ['t1_tse_sag', 't1_tse_sag_320', 't1_tse_sag_p2'],
      t2: ['t2_tse_sag', 't2_tse_sag_384', 't2_tse_sag_p2'],
      stir: ['t2_tirm_sag', 'stir_sag', 't2_tse_sag_ir'],
      'axial-t2': ['t2_tse_tra', 't2_tse_tra_discs'],
      localizer: ['localizer', 'AAHScout_localizer'],
      derived: ['t1_tse_sag_MPR', 't1_tse_sag_SUB'],
    },
    seriesNumber: (o) => o,
  },
  ge: {
    manufacturer: 'GE MEDICAL SYSTEMS',
    model: 'SIGNA HDxt',
    scale: 2600,
    bitsStored: 16,
    slopeRange: [1, 1],
    descriptions: {
      t1: ['SAG T1 FSE', 'Sag T1 FSE', 'SAG T1'],
      t2: ['SAG T2 FSE', 'Sag T2 FRFSE', 'SAG T2'],
      stir: ['SAG STIR', 'Sag IR', 'SAG FSE IR'],
      'axial-t2': ['AX T2 FSE', 'Ax T2 FRFSE'],
      localizer: ['3-Plane Loc', '3 PLANE LOC'],
      derived: ['SAG T1 FSE REFORMAT', 'Reformatted SAG T1'],
    },
    seriesNumber: (o) => o,
  },
  philips: {
    manufacturer: 'Philips Medical Systems',
    model: 'Achieva',
    scale: 700,
    bitsStored: 12,
    slopeRange: [1.2, 3.5],
    descriptions: {
      t1: ['T1W_TSE SAG', 'sT1W_TSE SAG', 'T1W_TSE_SAG'],
      t2: ['T2W_TSE SAG', 'sT2W_TSE SAG', 'T2W_TSE_SAG'],
      stir: ['STIR_TSE SAG', 'IR_TSE SAG', 'sSTIR SAG'],
      'axial-t2': ['T2W_TSE TRA', 'sT2W_TSE TRA'],
      localizer: ['Survey', 'SURVEY MST'],
      derived: ['T1W_TSE SAG MPR', 'T1W SAG RFMT'],
    },
    seriesNumber: (o) => o * 100 + 1,
  },
};

export interface SequenceParams {
  contrast: Contrast;
  repetitionTime: number;
  echoTime: number;
  inversionTime?: number;
  echoTrainLength: number;
  scanningSequence: string[];
  sequenceVariant: string[];
  scanOptions: string[];
  flipAngle: number;
}

export function drawSequence(rng: Rng, role: SeriesRole): SequenceParams {
  const r1 = (x: number) => Math.round(x * 10) / 10;
  switch (role) {
    case 't1':
    case 'derived':
      return { contrast: 'T1', repetitionTime: r1(rng.uniform(400, 650)), echoTime: r1(rng.uniform(8, 14)), echoTrainLength: rng.int(3, 5), scanningSequence: ['SE'], sequenceVariant: ['SK', 'SP'], scanOptions: ['SAT1'], flipAngle: 150 };
    case 't2':
    case 'axial-t2':
      return { contrast: 'T2', repetitionTime: r1(rng.uniform(2200, 4000)), echoTime: r1(rng.uniform(85, 110)), echoTrainLength: rng.int(13, 21), scanningSequence: ['SE'], sequenceVariant: ['SK', 'SP'], scanOptions: ['SAT1'], flipAngle: 150 };
    case 'stir':
      return {
        contrast: 'STIR',
        repetitionTime: r1(rng.uniform(3000, 4500)),
        echoTime: r1(rng.uniform(62, 75)),
        inversionTime: r1(rng.uniform(140, 170)),
        echoTrainLength: rng.int(11, 17),
        scanningSequence: ['SE', 'IR'],
        sequenceVariant: ['SK', 'SP', 'MP'],
        scanOptions: ['IR'],
        flipAngle: 150,
      };
    case 'localizer':
      return { contrast: 'GRE', repetitionTime: r1(rng.uniform(7, 9)), echoTime: r1(rng.uniform(3, 4.2)), echoTrainLength: 1, scanningSequence: ['GR'], sequenceVariant: ['SP'], scanOptions: [], flipAngle: 20 };
  }
}
