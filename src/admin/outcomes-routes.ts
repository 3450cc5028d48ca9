/**
 * Admin API of DXA outcomes and screening performance (issue 26): POST /api/outcomes, GET /api/outcomes,
 * GET /api/performance, the labelled cut-off proposals and their approval (audit-logged), and the Prometheus gauges.
 */
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import type { RadscoreModel } from '../model/index.js';
import { OsteoError } from '../common/errors.js';
import type { Request, Route } from './http.js';
import { importOutcomeObjects } from '../outcomes/import.js';
import { currentMatches, outcomesReport, performanceReport, type PerformanceDeps } from './performance.js';
import { approveLabelledProposal, labelledFile, labelledProposals } from './performance-proposal.js';

export interface OutcomeRouteDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  model: () => RadscoreModel | null;
  audit: (req: Request, action: string, target: string | null, detail?: unknown) => void;
}

export function outcomeRoutes(d: OutcomeRouteDeps): Route[] {
  const deps = (): PerformanceDeps => ({ config: d.config, store: d.store, model: d.model() });
  registerPerformanceMetrics(d.metrics, deps);
  const csv = (which: 'features' | 'labels'): Route => ({
    method: 'GET',
    pattern: `/api/performance/:id/${which}.csv`,
    auth: true,
    handler: (req) => {
      const f = labelledFile(deps(), req.params.id!, which);
      return { body: f.text, contentType: 'text/csv; charset=utf-8', headers: { 'content-disposition': `attachment; filename="${f.name}"` } };
    },
  });
  return [
    {
      method: 'POST',
      pattern: '/api/outcomes',
      auth: true,
      handler: async (req) => {
        const b = req.body as unknown;
        const list = Array.isArray(b) ? b : b && typeof b === 'object' && Array.isArray((b as { outcomes?: unknown }).outcomes) ? (b as { outcomes: unknown[] }).outcomes : null;
        if (!list) throw new OsteoError('bad-request', 'expected a JSON array of outcomes, or {"outcomes": [...]}', 400);
        const r = await importOutcomeObjects(d.store, list, d.config.identity.defaultIssuer);
        d.audit(req, 'outcomes-import', null, { source: 'api', stored: r.stored, rejected: r.rejected.length });
        return { status: r.stored || !list.length ? 200 : 422, json: r };
      },
    },
    {
      method: 'GET',
      pattern: '/api/outcomes',
      auth: true,
      handler: (req) => ({ json: outcomesReport(deps(), Math.min(5000, Math.max(1, Number(req.query.get('limit')) || 500))) }),
    },
    {
      method: 'GET',
      pattern: '/api/performance',
      auth: true,
      handler: (req) => ({ json: performanceReport(deps(), { svg: req.query.get('svg') === 'true' }) }),
    },
    {
      method: 'GET',
      pattern: '/api/performance/proposals',
      auth: true,
      handler: () => ({ json: labelledProposals(deps()) }),
    },
    csv('features'),
    csv('labels'),
    {
      method: 'POST',
      pattern: '/api/performance/:id/approve',
      auth: true,
      handler: (req) => {
        const h = (req.body as { expectHash?: unknown } | undefined)?.expectHash;
        if (h !== undefined && typeof h !== 'string') throw new OsteoError('bad-request', 'expectHash must be a string', 400);
        const r = approveLabelledProposal(deps(), req.params.id!, req.actor, h);
        d.audit(req, 'calibration-approve-labelled', r.scanner, { scannerId: r.scannerId, calibrationId: r.calibrationId, labelled: r.labelled, cutoff: r.cutoff, model: r.model });
        return { json: r };
      },
    },
  ];
}

/** Prometheus gauges per scanner and model version (computed on scrape from the cached matches). */
function registerPerformanceMetrics(metrics: Metrics, deps: () => PerformanceDeps): void {
  let memo: { at: number; groups: ReturnType<typeof performanceReport> } | null = null;
  const groups = () => {
    if (!memo || Date.now() - memo.at > 1000) memo = { at: Date.now(), groups: performanceReport(deps()) };
    return memo.groups;
  };
  const per = (f: (g: ReturnType<typeof performanceReport>[number]) => number | null) => () =>
    groups()
      .map((g) => [{ scanner: g.scanner, model_version: g.modelVersion }, f(g)] as [Record<string, string>, number | null])
      .filter((x): x is [Record<string, string>, number] => x[1] !== null && Number.isFinite(x[1]));
  const r = metrics.registry;
  r.gauge('osteoscreen_performance_auc', 'AUC of the radscore against matched DXA labels, per scanner and model version', per((g) => g.auc));
  r.gauge('osteoscreen_performance_auc_ci_lower', 'Lower bound of the DeLong 95 % CI of the AUC', per((g) => g.aucCi?.[0] ?? null));
  r.gauge('osteoscreen_performance_sensitivity', 'Sensitivity at the cut-off in use, per scanner and model version', per((g) => g.sensitivity));
  r.gauge('osteoscreen_performance_specificity', 'Specificity at the cut-off in use, per scanner and model version', per((g) => g.specificity));
  r.gauge('osteoscreen_performance_labelled', 'Studies labelled by a matched DXA, per scanner, model version and class', () =>
    groups().flatMap((g) => [
      [{ scanner: g.scanner, model_version: g.modelVersion, class: 'abnormal' }, g.nAbnormal],
      [{ scanner: g.scanner, model_version: g.modelVersion, class: 'normal' }, g.nNormal],
    ]),
  );
  r.gauge('osteoscreen_outcomes', 'DXA outcomes stored, by state (matched to a screened study or unmatched)', () => {
    const d = deps();
    const m = currentMatches(d.config, d.store);
    return [
      [{ state: 'unmatched' }, m.unmatched.length],
      [{ state: 'matched' }, d.store.outcomes.count() - m.unmatched.length],
    ];
  });
}
