/** Feature class registry (listed explicitly, no reflection). */
import { firstorder } from './firstorder.js';
import { glcm } from './glcm.js';
import { gldm } from './gldm.js';
import { glrlm } from './glrlm.js';
import { glszm } from './glszm.js';
import { ngtdm } from './ngtdm.js';
import { shape } from './shape.js';
import { shape2D } from './shape2d.js';
import type { FeatureClassDef } from './types.js';
import type { FeatureClassName } from '../settings.js';

export type { FeatureClassDef, FeatureDef, FeatureInput } from './types.js';
export { firstorder, glcm, gldm, glrlm, glszm, ngtdm, shape, shape2D };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const FEATURE_CLASSES: Readonly<Record<FeatureClassName, FeatureClassDef<any>>> = {
  shape,
  shape2D,
  firstorder,
  glcm,
  glrlm,
  glszm,
  gldm,
  ngtdm,
};

/** Texture/intensity classes computed for every image type (shape classes only for `original`). */
export const IMAGE_CLASSES: readonly FeatureClassName[] = ['firstorder', 'glcm', 'glrlm', 'glszm', 'gldm', 'ngtdm'];

/** All feature names of a class. */
export function featureNames(cls: FeatureClassName): string[] {
  return Object.keys(FEATURE_CLASSES[cls].features);
}

/** Markdown reference of every feature (name, formula) generated from the registry. */
export function featureDocsMarkdown(): string {
  const out: string[] = ['# Radiomics features', '', 'Generated from the feature registry (`src/radiomics/features`). Names are `<imagetype>_<class>_<Feature>`, identical to PyRadiomics 3.1.', ''];
  for (const [cls, def] of Object.entries(FEATURE_CLASSES)) {
    out.push(`## ${cls}`, '', def.doc, '', '| feature | definition |', '|---|---|');
    for (const name of Object.keys(def.features).sort()) {
      const f = def.features[name]!;
      out.push(`| ${name} | ${f.doc.replace(/\|/g, '\\|')}${f.nanReason ? ` (null when ${f.nanReason})` : ''} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
