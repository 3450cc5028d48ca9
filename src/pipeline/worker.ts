/**
 * Worker-thread entry: runs study analyses off the main thread so the DICOM listener never stalls.
 * The radscore model and the ONNX segmentation model are loaded once per worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { resolveInstallPath } from '../config/load.js';
import { setLogLevel } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { loadModel, type RadscoreModel } from '../model/index.js';
import type { ScannerModelRef } from './model-choice.js';
import { Segmenter } from '../segmentation/index.js';
import { analyseStudy, type AnalyseInput } from './analyse.js';

const config = (workerData as { config: Config }).config;
setLogLevel(config.log.level);
const model = loadModel(resolveInstallPath(config.model.file));
let segmenter: Promise<Segmenter> | undefined;
/** Approved per-scanner models, loaded once each (keyed by file and hash: a new approval is a new file). */
const scannerModels = new Map<string, RadscoreModel>();
function loadScannerModel(ref: ScannerModelRef): RadscoreModel {
  const key = `${ref.file}#${ref.hash}`;
  let m = scannerModels.get(key);
  if (!m) scannerModels.set(key, (m = loadModel(ref.file)));
  return m;
}

parentPort!.on('message', async (msg: { id: number; input: AnalyseInput }) => {
  try {
    segmenter ??= Segmenter.load(resolveInstallPath(config.segmentation.model), { threads: config.segmentation.threads });
    const result = await analyseStudy(msg.input, { config, model, segmenter: await segmenter, loadScannerModel });
    parentPort!.postMessage({ id: msg.id, ok: true, result });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: errorMessage(e) });
  }
});
