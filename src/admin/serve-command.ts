import type { Command } from '../common/command.js';
import { parseOptions, numberOption } from '../common/command.js';
import { loadConfig, unknownEnvVars } from '../config/load.js';
import { startService } from '../service.js';
import { logger } from '../common/log.js';

const log = logger('serve');

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the DICOM listener, pipeline and admin server',
  help: `Usage: osteoscreen serve [options]

Runs OsteoScreen: DICOM C-ECHO/C-STORE listener, durable storage + SQLite index, series stability and the
analysis job queue, outbound C-STORE of reports, and the admin HTTP server (page, API, /metrics, /health).
Embedded defaults: DICOM port 11112, AE title OSTEOSCREEN, HTTP port 8080, data in ./data.

Options (each overrides the config file and OSTEOSCREEN_* env vars):
  --config FILE      YAML config (default: $OSTEOSCREEN_CONFIG, else embedded defaults; see config/default.yaml)
  --port N           DICOM port                      (dicom.port, OSTEOSCREEN_DICOM_PORT)
  --ae-title AET     our AE title                    (dicom.aeTitle, OSTEOSCREEN_DICOM_AE_TITLE)
  --http-port N      admin HTTP port                 (http.port, OSTEOSCREEN_HTTP_PORT)
  --data DIR         data folder                     (storage.dir, OSTEOSCREEN_STORAGE_DIR)
  --stable-seconds N quiet period before a series is complete (pipeline.stableSeconds)

Stop with Ctrl-C or SIGTERM: running jobs get a few seconds, unfinished ones re-run on the next start.
UNVERIFIED — research/screening use. Not a diagnosis.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      config: { type: 'string' },
      port: { type: 'string' },
      'ae-title': { type: 'string' },
      'http-port': { type: 'string' },
      data: { type: 'string' },
      'stable-seconds': { type: 'string' },
    });
    const overrides: Record<string, Record<string, unknown>> = {};
    const set = (s: string, k: string, v: unknown) => ((overrides[s] ??= {})[k] = v);
    if (values.port) set('dicom', 'port', numberOption(values.port, '--port', 0));
    if (values['ae-title']) set('dicom', 'aeTitle', values['ae-title']);
    if (values['http-port']) set('http', 'port', numberOption(values['http-port'], '--http-port', 0));
    if (values.data) set('storage', 'dir', values.data);
    if (values['stable-seconds']) set('pipeline', 'stableSeconds', numberOption(values['stable-seconds'], '--stable-seconds', 0));
    for (const u of unknownEnvVars(process.env)) {
      log.warn(`environment variable ${u.name} matches no config key and is ignored${u.suggestion ? ` (did you mean ${u.suggestion}?)` : ''}`);
    }
    const config = loadConfig({ file: values.config, overrides });
    const svc = await startService(config);
    // The token itself never goes to the log (logs travel further than the data folder): only where it is.
    const h = config.http.host;
    const pageHost = h === '0.0.0.0' || h === '::' || h === '' ? 'localhost' : h.includes(':') ? `[${h}]` : h;
    log.info('OsteoScreen ready', {
      dicomPort: svc.dicomPort,
      aeTitle: config.dicom.aeTitle,
      adminPage: `http://${pageHost}:${svc.httpPort}/`,
      adminToken: svc.adminTokenFile ? `in ${svc.adminTokenFile}` : 'http.token (config file or OSTEOSCREEN_HTTP_TOKEN)',
      data: svc.store.dir,
    });
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        log.info('signal received, shutting down', { signal: sig });
        svc.stop().finally(resolve);
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  },
};
