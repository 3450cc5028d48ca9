import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { resolveInstallPath } from '../config/load.js';
import { loadModel } from '../model/load.js';
import type { RadscoreModel } from '../model/schema.js';
import { errorMessage } from '../common/errors.js';
import { parseMarkdown } from './markdown.js';

export interface LoadedModel {
  file: string;
  model: RadscoreModel | null;
  error: string | null;
}

/** Load the configured radscore model once (errors are kept and shown, never thrown at the admin page). */
export function loadConfiguredModel(config: Config): LoadedModel {
  const file = resolveInstallPath(config.model.file);
  try {
    return { file, model: loadModel(file), error: null };
  } catch (e) {
    return { file, model: null, error: errorMessage(e) };
  }
}

/** The model card: radscore model (terms, normalisation, provenance) and the segmentation model's card text. */
export function modelCard(config: Config, loaded: LoadedModel) {
  const m = loaded.model;
  const segModel = resolveInstallPath(config.segmentation.model);
  const segCardFile = segModel.replace(/\.onnx$/i, '') + '.md';
  let segCard: string | null = null;
  try {
    if (existsSync(segCardFile)) segCard = readFileSync(segCardFile, 'utf8');
  } catch {
    segCard = null;
  }
  return {
    radscore: m
      ? {
          file: loaded.file,
          name: m.name,
          version: m.version,
          hash: m.hash,
          description: m.description,
          calibrated: m.calibrated,
          intercept: m.intercept,
          cutoff: m.cutoff,
          labels: m.labels,
          normalisation: m.normalisation,
          terms: m.terms.map((t) => ({ sequence: t.sequence, feature: t.feature, coefficient: t.coefficient, mean: t.mean, sd: t.sd, basis: t.basis ?? null })),
          extraction: m.extraction,
          provenance: m.provenance,
        }
      : null,
    radscoreError: loaded.error,
    segmentation: {
      file: segModel,
      present: existsSync(segModel),
      cardFile: path.basename(segCardFile),
      card: segCard,
      cardBlocks: segCard === null ? null : parseMarkdown(segCard),
    },
  };
}
