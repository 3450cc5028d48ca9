/**
 * Is the service able to analyse? The radscore model must load before the service starts (checkModels), but a
 * missing segmentation model only makes every study end "not assessable": the listener keeps receiving so that
 * nothing is lost. That state must be visible:
 * - `GET /health` answers HTTP 503 with `status: "degraded"` and the reason in `problems` (200 "ok" otherwise),
 *   so a monitor or container health check alerts; DICOM receiving goes on;
 * - `/api/overview` has `modelError` / `segmentationModel` (the page shows a warning chip);
 * - `osteoscreen_model_ready{model="segmentation"|"radscore"}` is 1 or 0.
 * Checked on every request (a stat call), so it turns "ok" once the file is there; the analysis worker loads the
 * model at its first job, so after installing a missing model restart the service.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { resolveInstallPath } from '../config/load.js';
import type { Metrics } from '../common/metrics.js';

export interface ModelReadiness {
  model: 'segmentation' | 'radscore';
  ready: boolean;
  file: string;
  /** Why it is not ready (names the config key). */
  reason?: string;
}

export function segmentationReadiness(config: Config): ModelReadiness {
  const file = resolveInstallPath(config.segmentation.model);
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size === 0) return { model: 'segmentation', ready: false, file, reason: `segmentation model ${file} (segmentation.model) is empty or not a file: every study ends not assessable` };
    accessSync(file, constants.R_OK);
    return { model: 'segmentation', ready: true, file };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'not readable' : `unusable (${code ?? (e as Error).message})`;
    return { model: 'segmentation', ready: false, file, reason: `segmentation model ${file} (segmentation.model) ${why}: every study ends not assessable` };
  }
}

/** The /health reply: 200 "ok", or 503 "degraded" with the problems. */
export function healthReply(config: Config, base: Record<string, unknown>, radscoreError: string | null = null): { status: number; json: Record<string, unknown> } {
  const problems: string[] = [];
  const seg = segmentationReadiness(config);
  if (!seg.ready) problems.push(seg.reason!);
  if (radscoreError) problems.push(`radscore model (model.file): ${radscoreError}`);
  return problems.length ? { status: 503, json: { status: 'degraded', problems, ...base } } : { status: 200, json: { status: 'ok', ...base } };
}

/** osteoscreen_model_ready{model} gauge. `radscoreError` is read at scrape time. */
export function registerModelReadyMetric(metrics: Metrics, config: Config, radscoreError: () => string | null): void {
  metrics.registry.gauge('osteoscreen_model_ready', 'Whether a model the analysis needs is usable (1) or not (0)', () => [
    [{ model: 'segmentation' }, segmentationReadiness(config).ready ? 1 : 0],
    [{ model: 'radscore' }, radscoreError() ? 0 : 1],
  ]);
}
