/** A missing segmentation model is visible: /health degraded (503), the overview/page, and a metric. */
import { describe, it, expect, afterAll } from 'vitest';
import { startService, type RunningService } from '../helpers/service.js';
import { parsePrometheusText, total } from './promtext.js';

const running: RunningService[] = [];
afterAll(async () => {
  for (const s of running) await s.stop();
});

async function metricsOf(svc: RunningService) {
  return parsePrometheusText(await (await svc.api('/metrics', { token: null })).text());
}

describe('model readiness', () => {
  it('without the segmentation model: /health 503 degraded with the reason, overview modelError, osteoscreen_model_ready 0', async () => {
    const svc = await startService({ env: { OSTEOSCREEN_SEGMENTATION_MODEL: '/nonexistent/vertebrae-seg.onnx' } });
    running.push(svc);
    const h = await svc.api('/health', { token: null });
    expect(h.status).toBe(503);
    const body = await h.json();
    expect(body.status).toBe('degraded');
    expect(body.problems).toHaveLength(1);
    expect(body.problems[0]).toMatch(/segmentation model \/nonexistent\/vertebrae-seg.onnx \(segmentation.model\) not found/);
    expect(body.version).toBeTruthy();
    const o = await svc.json<any>('/api/overview');
    expect(o.modelError).toMatch(/segmentation.model/);
    expect(o.segmentationModel).toMatchObject({ model: 'segmentation', ready: false, file: '/nonexistent/vertebrae-seg.onnx' });
    const m = await metricsOf(svc);
    expect(total(m, 'osteoscreen_model_ready', { model: 'segmentation' })).toBe(0);
    expect(total(m, 'osteoscreen_model_ready', { model: 'radscore' })).toBe(1);
    // The page script shows the reason as a warning chip.
    const js = await (await svc.api('/assets/admin.js', { token: null })).text();
    expect(js).toContain("'not analysing: ' + o.segmentationModel.reason");
  });

  it('with the shipped models: /health 200 ok, no problems, osteoscreen_model_ready 1 for both', async () => {
    const svc = await startService();
    running.push(svc);
    const h = await svc.api('/health', { token: null });
    expect(h.status).toBe(200);
    const body = await h.json();
    expect(body.status).toBe('ok');
    expect(body.problems).toBeUndefined();
    const o = await svc.json<any>('/api/overview');
    expect(o.modelError).toBeNull();
    expect(o.segmentationModel.ready).toBe(true);
    const m = await metricsOf(svc);
    expect(total(m, 'osteoscreen_model_ready', { model: 'segmentation' })).toBe(1);
    expect(total(m, 'osteoscreen_model_ready', { model: 'radscore' })).toBe(1);
  });
});
