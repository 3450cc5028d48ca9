/** Admin API of per-scanner calibration (src/admin/calibration.ts); approvals and dismissals are audit-logged. */
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { RadscoreModel } from '../model/index.js';
import { OsteoError } from '../common/errors.js';
import type { Request, Route } from './http.js';
import { approveCalibration, calibrationReport, dismissCalibration, scannerCsv } from './calibration.js';

export interface CalibrationRouteDeps {
  config: Config;
  store: Store;
  model: () => RadscoreModel | null;
  audit: (req: Request, action: string, target: string | null, detail?: unknown) => void;
}

/** `{"expectStudies": n}` (optional): the number of studies the admin reviewed; a changed proposal is refused (409). */
function expectStudies(body: unknown): number | undefined {
  if (body === undefined || body === null) return undefined;
  const v = (body as { expectStudies?: unknown }).expectStudies;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new OsteoError('bad-request', 'expectStudies must be a non-negative integer', 400);
  return v;
}

export function calibrationRoutes(d: CalibrationRouteDeps): Route[] {
  const deps = () => ({ config: d.config, store: d.store, model: d.model() });
  return [
    {
      method: 'GET',
      pattern: '/api/calibration',
      auth: true,
      handler: (req) => ({ json: calibrationReport(deps(), { histograms: req.query.get('histograms') !== 'false' }) }),
    },
    {
      method: 'GET',
      pattern: '/api/calibration/:id/features.csv',
      auth: true,
      handler: (req) => {
        const csv = scannerCsv(deps(), req.params.id!);
        return { body: csv.text, contentType: 'text/csv; charset=utf-8', headers: { 'content-disposition': `attachment; filename="${csv.name}"` } };
      },
    },
    {
      method: 'POST',
      pattern: '/api/calibration/:id/approve',
      auth: true,
      handler: (req) => {
        const r = approveCalibration(deps(), req.params.id!, req.actor, expectStudies(req.body));
        d.audit(req, 'calibration-approve', r.scanner, { scannerId: r.scannerId, calibrationId: r.calibrationId, studies: r.n, model: r.model });
        return { json: r };
      },
    },
    {
      method: 'POST',
      pattern: '/api/calibration/:id/dismiss',
      auth: true,
      handler: (req) => {
        const r = dismissCalibration(deps(), req.params.id!, req.actor, expectStudies(req.body));
        d.audit(req, 'calibration-dismiss', r.scanner, { scannerId: r.scannerId, calibrationId: r.calibrationId, studies: r.n, proposalAgainAfter: r.proposalAgainAfter });
        return { json: r };
      },
    },
  ];
}
