import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Command } from '../common/command.js';
import { UsageError, parseOptions } from '../common/command.js';
import { loadConfig } from '../config/load.js';
import { openStore } from '../store/index.js';
import { loadConfiguredModel } from './model-card.js';
import { approveCalibration, calibrationReport, dismissCalibration, scannerCsv } from './calibration.js';

export const calibrationCommand: Command = {
  name: 'calibration',
  summary: 'per-scanner calibration proposals: show, approve, dismiss (same as GET /api/calibration)',
  help: `Usage: osteoscreen calibration [status] [--config FILE] [--data DIR]
       osteoscreen calibration approve|dismiss SCANNER_ID [--expect-studies N] [--config FILE] [--data DIR]
       osteoscreen calibration features SCANNER_ID [--out F.csv] [--config FILE] [--data DIR]

Works on the data folder of the service (storage.dir; the service may be running).
  status     prints the JSON of GET /api/calibration (without the SVG histograms): per scanner key
             (manufacturer / model / station) its assessable studies, the active model, and, from
             calibration.minStudies studies on, the proposal: per term the site's median / robust SD against the
             model's mean / SD, the flag rate before and after.
  approve    writes the proposed calibrated model (median and MAD x 1.4826 per term, cut-off kept) into
             <data>/models/ and makes it the scanner's model from the next study on. Audit-logged (actor cli:<user>).
  dismiss    hides the proposal until calibration.minStudies more studies have arrived. Audit-logged.
  features   the scanner's recorded term values as a features CSV: \`osteoscreen calibrate --robust\` on it gives
             the proposed model.
  --expect-studies N   refuse (exit 1) when the proposal no longer rests on N studies.`,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      { config: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, 'expect-studies': { type: 'string' } },
      true,
    );
    const [action = 'status', id] = positionals;
    if (!['status', 'approve', 'dismiss', 'features'].includes(action)) throw new UsageError(`unknown action "${action}" (status, approve, dismiss, features)`);
    if (action !== 'status' && !id) throw new UsageError(`${action} needs a SCANNER_ID (see \`osteoscreen calibration status\`)`);
    const expect = values['expect-studies'] === undefined ? undefined : Number(values['expect-studies']);
    if (expect !== undefined && !Number.isInteger(expect)) throw new UsageError('--expect-studies expects an integer');
    const config = loadConfig({ file: values.config, overrides: values.data ? { storage: { dir: values.data } } : undefined });
    const store = openStore(config.storage.dir);
    try {
      const deps = { config, store, model: loadConfiguredModel(config).model };
      const actor = `cli:${os.userInfo().username}`;
      if (action === 'status') {
        process.stdout.write(JSON.stringify(calibrationReport(deps, { histograms: false }), null, 1) + '\n');
      } else if (action === 'approve') {
        const r = approveCalibration(deps, id!, actor, expect);
        store.audit.record({ actor, ip: null, action: 'calibration-approve', target: r.scanner, detail: { scannerId: r.scannerId, calibrationId: r.calibrationId, studies: r.n, model: r.model } });
        process.stdout.write(JSON.stringify(r, null, 1) + '\n');
      } else if (action === 'dismiss') {
        const r = dismissCalibration(deps, id!, actor, expect);
        store.audit.record({ actor, ip: null, action: 'calibration-dismiss', target: r.scanner, detail: { scannerId: r.scannerId, calibrationId: r.calibrationId, studies: r.n } });
        process.stdout.write(JSON.stringify(r, null, 1) + '\n');
      } else {
        const csv = scannerCsv(deps, id!);
        if (values.out) writeFileSync(values.out, csv.text);
        else process.stdout.write(csv.text);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
