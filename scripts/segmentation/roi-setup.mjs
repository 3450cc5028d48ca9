// What the ROI-agreement scripts share (run `npm run build` first): the shipped radscore model's ROI rule,
// extraction settings and T2 terms, the shipped segmentation model, and a radiomics worker pool.
import { Segmenter } from '../../dist/segmentation/segmenter.js';
import { loadModel } from '../../dist/model/load.js';
import { radiomicsSettingsOf, roiSpecOf } from '../../dist/model/extraction.js';
import { createRadiomicsPool } from '../../dist/radiomics/parallel.js';

export async function roiSetup() {
  const model = loadModel('models/paper-t1t2.json');
  const pool = createRadiomicsPool({});
  return {
    model,
    spec: roiSpecOf(model),
    settings: radiomicsSettingsOf(model),
    /** the model's T2 terms (feature names) */
    only: model.terms.filter((t) => t.sequence === 'T2').map((t) => t.feature),
    seg: await Segmenter.load('models/vertebrae-seg.onnx', { threads: 2 }),
    pool,
    extract: (img, mask, s, o) => pool.extract(img, mask, s, o),
  };
}
