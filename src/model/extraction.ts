/**
 * A model's extraction settings in the forms the engine runs: PyRadiomics settings for the radiomics engine and
 * the ROI rule for the segmentation. The features a model scores are measured with the model's own settings, so a
 * model and a site config cannot silently disagree.
 */
import { settingsFromObject, type RadiomicsSettings } from '../radiomics/settings.js';
import type { RoiSpec } from '../segmentation/roi.js';
import type { RadscoreModel } from './schema.js';

/** The model's extraction settings in PyRadiomics parameter-file form. */
export function radiomicsSettingsOf(model: Pick<RadscoreModel, 'extraction'>): RadiomicsSettings {
  const ex = model.extraction;
  return settingsFromObject({
    imageType: ex.imageTypes,
    featureClass: Object.fromEntries(ex.featureClasses.map((c) => [c, null])),
    setting: ex.settings,
  });
}

/** Why a site's `segmentation.erosionMm` and the model's ROI disagree (null when they agree or it is unset). */
export function roiConfigConflict(model: Pick<RadscoreModel, 'extraction' | 'name' | 'version'>, configErosionMm: number | undefined): string | null {
  const want = model.extraction.roi.erosionMm;
  if (configErosionMm === undefined || Math.abs(configErosionMm - want) < 1e-9) return null;
  return (
    `segmentation.erosionMm is ${configErosionMm} mm but the radscore model ${model.name} ${model.version} was made with ` +
    `extraction.roi.erosionMm ${want} mm: features measured on another ROI would be scored against the model's normalisation. ` +
    `Remove segmentation.erosionMm (OSTEOSCREEN_SEGMENTATION_EROSION_MM) to use the model's, or use a model made with ${configErosionMm} mm.`
  );
}

/** The ROI rule the analysis measures with: the model's extraction.roi. Throws when the config disagrees. */
export function roiSpecOf(model: Pick<RadscoreModel, 'extraction' | 'name' | 'version'>, configErosionMm?: number): RoiSpec {
  const conflict = roiConfigConflict(model, configErosionMm);
  if (conflict) throw new Error(conflict);
  const r = model.extraction.roi;
  return { vertebrae: r.vertebrae, slicesPerBody: r.slicesPerBody, erosionMm: r.erosionMm };
}
