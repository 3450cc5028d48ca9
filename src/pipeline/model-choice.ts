/**
 * Several models at once: the default (model.file) plus one approved per-scanner calibration per scanner key
 * (src/admin/calibration.ts). Each study is scored with its scanner's approved model when there is one, else with
 * the default; the choice and its reason go into the job result, the SR and the summary image.
 */
import { scannerKey, type ScannerInfo } from '../common/scanner.js';
import { errorMessage } from '../common/errors.js';
import type { RadscoreModel } from '../model/index.js';

/** An approved per-scanner model, as the pipeline passes it to the analysis (plain data: crosses the worker boundary). */
export interface ScannerModelRef {
  scanner: string;
  file: string;
  hash: string;
  calibrationId: number;
  approvedAt: string;
  /** Studies the calibration was learned from. */
  n: number;
}

export interface ModelChoice {
  scanner: string;
  source: 'default' | 'scanner-calibration';
  calibrationId?: number;
  /** In words, for the SR, the summary image and the page. */
  reason: string;
}

/**
 * Pick the model of a study. A per-scanner model that cannot be loaded (file gone, hash changed) falls back to the
 * default, which says so (the default with model.requireCalibrated gives no flag, so the fallback cannot flag wrongly).
 */
export function chooseModel(
  scanner: ScannerInfo | null,
  defaultModel: RadscoreModel,
  refs: ScannerModelRef[] | undefined,
  load: (ref: ScannerModelRef) => RadscoreModel,
): { model: RadscoreModel; choice: ModelChoice } {
  const key = scannerKey(scanner);
  const ref = refs?.find((r) => r.scanner === key);
  const def = `${defaultModel.name} ${defaultModel.version}`;
  if (!ref) {
    return {
      model: defaultModel,
      choice: { scanner: key, source: 'default', reason: `Model: default ${def} (no approved calibration for scanner ${key})` },
    };
  }
  try {
    const m = load(ref);
    if (m.hash !== ref.hash) throw new Error(`hash ${m.hash} differs from the approved ${ref.hash}`);
    return {
      model: m,
      choice: {
        scanner: key,
        source: 'scanner-calibration',
        calibrationId: ref.calibrationId,
        reason: `Model: ${m.name} ${m.version}, the calibration of scanner ${key} approved ${ref.approvedAt.slice(0, 10)} (${ref.n} studies), instead of the default ${def}`,
      },
    };
  } catch (e) {
    return {
      model: defaultModel,
      choice: { scanner: key, source: 'default', reason: `Model: default ${def}: the approved calibration of scanner ${key} could not be loaded (${errorMessage(e)})` },
    };
  }
}

/**
 * The model of one study: with approved per-scanner models (and a loader) the one `chooseModel` picks, else the
 * default; the choice is recorded whenever there are approved models or the scanner is known.
 */
export function modelForStudy(
  scanner: ScannerInfo | null,
  defaultModel: RadscoreModel,
  refs: ScannerModelRef[] | undefined,
  load: ((ref: ScannerModelRef) => RadscoreModel) | undefined,
): { model: RadscoreModel; choice: ModelChoice | null } {
  if (refs?.length && load) return chooseModel(scanner, defaultModel, refs, load);
  return { model: defaultModel, choice: scanner ? chooseModel(scanner, defaultModel, [], () => defaultModel).choice : null };
}
