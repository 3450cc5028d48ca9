import type { Server } from 'node:http';
import type { Config } from './config/schema.js';
import { openStore, diskFree, type Store } from './store/index.js';
import { createMetrics, type Metrics } from './common/metrics.js';
import { registerEventLoopMetrics } from './common/event-loop.js';
import { logger, setLogLevel } from './common/log.js';
import { startScp, type DicomServer } from './dicom/scp.js';
import { Pipeline } from './pipeline/runner.js';
import { createProcessor } from './pipeline/process.js';
import { AnalysisWorker } from './pipeline/worker-client.js';
import { Deliverer } from './pipeline/deliver.js';
import { createHttpServer, listen, type Route } from './admin/http.js';
import { coreRoutes } from './admin/api.js';
import { resolveAdminToken } from './admin/auth.js';
import { VERSION } from './common/version.js';
import { adminRoutes, startHousekeeping, scannerModelRefs } from './admin/index.js';
import { existsSync } from 'node:fs';
import { ConfigError, resolveInstallPath } from './config/load.js';
import { loadModel, roiConfigConflict } from './model/index.js';
import { errorMessage } from './common/errors.js';
import { recordScreened } from './outcomes/screened.js';
import { startOutcomeListener, type OutcomeListener } from './outcomes/listener.js';
import { testPause, testFault, PAUSE_ENV, FAULT_ENV } from './common/test-pause.js';
import { BackfillRunner } from './backfill/campaign.js';
import { backfillRoutes } from './backfill/routes.js';
import { scheduleProblem } from './backfill/pacing.js';

const log = logger('service');
export { VERSION };

export interface Service {
  config: Config;
  store: Store;
  metrics: Metrics;
  pipeline: Pipeline;
  deliverer: Deliverer;
  httpPort: number;
  dicomPort: number;
  adminToken: string;
  /** Where the admin token is kept: the token file in the data folder, or undefined when it comes from http.token. */
  adminTokenFile?: string;
  /** Port of the HL7 v2 DXA results listener (outcomes.hl7Enabled), else undefined. */
  hl7InPort?: number;
  stop(): Promise<void>;
}

/**
 * The radscore model must load (schema and hash verified) before anything is received: without it no study
 * could be scored. A missing segmentation model is logged as an error (studies end "not assessable" with the
 * reason) but does not stop the listener, so nothing sent meanwhile is lost.
 */
export function checkModels(config: Config): void {
  const file = resolveInstallPath(config.model.file);
  let m;
  try {
    m = loadModel(file);
  } catch (e) {
    throw new ConfigError(`model.file (OSTEOSCREEN_MODEL_FILE): cannot load the radscore model: ${errorMessage(e)}`);
  }
  const roiConflict = roiConfigConflict(m, config.segmentation.erosionMm);
  if (roiConflict) throw new ConfigError(roiConflict);
  log.info('radscore model', { name: m.name, version: m.version, calibrated: m.calibrated, hash: m.hash.slice(0, 19), file });
  if (!m.calibrated) log.warn('the radscore model is uncalibrated: run osteoscreen calibrate on local labelled studies before trusting its flags');
  const seg = resolveInstallPath(config.segmentation.model);
  if (!existsSync(seg)) log.error('segmentation model not found (segmentation.model): studies end not assessable until it is installed', { file: seg });
}

/** The test-only pause and fault hooks (src/common/test-pause.ts): a bad value, or any value under NODE_ENV=production, stops start-up. */
function checkTestPause(): void {
  let spec;
  try {
    spec = testPause().spec;
  } catch (e) {
    throw new ConfigError(errorMessage(e));
  }
  if (spec) log.warn(`${PAUSE_ENV} is set: TEST-ONLY fault injection, the service will stop and wait at a stage`, { stage: spec.stage, from: spec.from });
  let fault;
  try {
    fault = testFault().spec;
  } catch (e) {
    throw new ConfigError(errorMessage(e));
  }
  if (fault) log.warn(`${FAULT_ENV} is set: TEST-ONLY fault injection, analyses will fail at a stage`, { action: fault.action, stage: fault.stage, untilAttempt: fault.untilAttempt });
}

/** Wire storage, DICOM listener, pipeline and admin HTTP once; start them. */
export async function startService(config: Config, extraRoutes: (svc: Omit<Service, 'stop' | 'httpPort'>) => Route[] = (svc) => adminRoutes({ ...svc, version: VERSION })): Promise<Service> {
  setLogLevel(config.log.level);
  checkTestPause();
  checkModels(config);
  const schedule = scheduleProblem(config.backfill.schedule);
  if (schedule) throw new ConfigError(`${schedule} (OSTEOSCREEN_BACKFILL_SCHEDULE)`);
  const store = openStore(config.storage.dir);
  const cleaned = store.blobs.cleanTmp();
  if (cleaned) log.warn('removed unfinished transfers from a previous run (never acknowledged)', { files: cleaned });
  const metrics = createMetrics();
  const loopMonitor = registerEventLoopMetrics(metrics.registry);
  metrics.registry.gauge('osteoscreen_disk_free_bytes', 'Free bytes on the data folder file system', () => [[{}, diskFree(store.dir) ?? NaN]]);
  metrics.registry.gauge('osteoscreen_outbox_depth', 'Output instances by outbox state', () => {
    const d = store.outbox.depth();
    return [[{ state: 'pending' }, d.pending], [{ state: 'dead-letter' }, d.deadLetter]];
  });
  metrics.registry.gauge('osteoscreen_studies', 'Studies by state', () => Object.entries(store.index.countBy('studies')).map(([k, v]) => [{ state: k }, v]));
  metrics.registry.gauge('osteoscreen_backfill_studies', 'Studies found by backfill campaigns, by state (all campaigns)', () => Object.entries(store.backfill.countsAll()).map(([k, v]) => [{ state: k }, v]));
  const token = resolveAdminToken(config.http.token, store.dir);
  if (token.generated) log.warn('no http.token configured: generated an admin token', { file: token.file });
  else if (token.file) log.info('admin token read from file', { file: token.file });

  const worker = new AnalysisWorker(config);
  const pipeline = new Pipeline(config, store, metrics, createProcessor({ config, store, metrics, analyse: (input) => worker.run(input),
    version: VERSION,
    scannerModels: () => scannerModelRefs(store),
    onScored: (info) => {
      const { scanner, jobId, studyUid, terms } = info;
      store.drift.record(scanner, terms);
      store.calibration.recordStudy({ scanner, studyUid, jobId, terms });
      recordScreened(store, config, info);
    },
  }));
  const deliverer = new Deliverer(config, store, metrics);
  let dicom: DicomServer | undefined;
  let http: Server | undefined;
  let hl7In: OutcomeListener | undefined;
  let backfill: BackfillRunner | undefined;
  try {
    const scpContext = { config, store, metrics, onStored: ({ seriesUid }: { seriesUid: string }) => pipeline.touch(seriesUid) };
    dicom = await startScp(scpContext);
    backfill = new BackfillRunner(scpContext);
    const partial = { config, store, metrics, pipeline, deliverer, dicomPort: config.dicom.port, adminToken: token.token };
    const runner = backfill;
    const routes = [
      ...coreRoutes({ config, store, metrics, startedAt: Date.now(), version: VERSION }),
      ...extraRoutes(partial),
      ...backfillRoutes({ config, store, kick: () => void runner.tick() }),
    ];
    http = createHttpServer(routes, token.token);
    const httpPort = await listen(http, config.http.port, config.http.host);
    log.info('admin HTTP started', { port: httpPort });
    if (config.outcomes.hl7Enabled) {
      const answers = metrics.registry.counter('osteoscreen_hl7_in_messages_total', 'HL7 v2 DXA result messages received, by answer (AA stored, AE, AR)');
      hl7In = await startOutcomeListener(config, store, { onAnswer: (code) => answers.inc({ answer: code }) });
    }
    pipeline.start();
    deliverer.start();
    backfill.start();
    if (!config.output.destinations.length && !config.output.stow.length && !config.output.folder) log.warn('no output destination configured (output.destination / output.destinations / output.stow / output.folder): reports stay in the data folder');
    const housekeeping = startHousekeeping({ config, store, metrics, sendDue: () => deliverer.tick() });
    return {
      ...partial,
      httpPort,
      adminTokenFile: token.file,
      hl7InPort: hl7In?.port,
      async stop() {
        log.info('stopping');
        housekeeping.stop();
        await hl7In?.close();
        await backfill?.stop();
        await dicom?.close();
        await pipeline.stop();
        deliverer.stop();
        await worker.close();
        await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
        http?.closeAllConnections?.();
        store.close();
        loopMonitor.stop();
      },
    };
  } catch (e) {
    await hl7In?.close();
    await backfill?.stop();
    await dicom?.close();
    http?.close();
    await worker.close();
    store.close();
    loopMonitor.stop();
    throw e;
  }
}
