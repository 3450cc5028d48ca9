/**
 * Per-destination state (GET /api/outbox/destinations, the page's Destinations table): in-process on a real
 * SQLite outbox, and in the running service with STOW-RS, webhook, HL7 v2 and FHIR destinations configured by env
 * vars, rendered in headless Chromium; the config output masks their secrets.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { configSchema } from '../../src/config/schema.js';
import { destinationStates } from '../../src/admin/destinations.js';
import { stowKey } from '../../src/output/stow.js';
import { webhookKey } from '../../src/output/webhook.js';
import { memoryStore } from '../helpers/memory-store.js';
import { startService, CLI, ROOT, type RunningService } from '../helpers/service.js';
import { writeMrSeries } from '../helpers/mr.js';
import { storescu } from '../helpers/dcmtk.js';
import { freePort, waitFor } from '../helpers/ports.js';

const CHROMIUM = '/usr/bin/chromium';

describe('per-destination state', () => {
  it('counts rows by state per destination, with the newest error and the next attempt; unconfigured keys are listed', () => {
    const store = memoryStore();
    const config = configSchema.parse({
      output: { destinations: [{ aeTitle: 'PACS', host: '10.0.0.1', port: 104 }], stow: [{ url: 'https://vna.example/dicom-web' }], webhooks: [{ url: 'https://fls.example/hook?token=s3cret', secret: 'x'.repeat(16) }], fhir: [{ url: 'https://ehr.example/fhir' }] },
    });
    const stow = stowKey({ url: 'https://vna.example/dicom-web' });
    const hook = webhookKey({ url: 'https://fls.example/hook?token=s3cret' });
    expect(hook).not.toContain('s3cret');
    const add = (sop: string, destination: string) => {
      store.outbox.add({ studyUid: '1.2', jobId: 1, kind: 'sr', destination, path: '/x', sopUid: sop });
      return store.outbox.ofStudy('1.2').find((r) => r.sop_uid === sop && r.destination === destination)!.id;
    };
    store.outbox.markSent(add('1', 'PACS@10.0.0.1:104'));
    store.outbox.markFailed(add('1', stow), 'HTTP 503 Service Unavailable', { baseMs: 10_000, maxAgeMs: 3_600_000 });
    store.outbox.markFailed(add('2', stow), 'HTTP 403 Forbidden', { baseMs: 10_000, maxAgeMs: 0 });
    add('1', 'OLD@10.0.0.9:104');
    const states = destinationStates(config, store);
    expect(states.map((s) => [s.destination, s.kind, s.configured, s.state, s.pending, s.sent, s.deadLetter])).toEqual([
      ['PACS@10.0.0.1:104', 'dicom', true, 'ok', 0, 1, 0],
      [stow, 'stow', true, 'dead-letters', 1, 0, 1],
      [hook, 'webhook', true, 'ok', 0, 0, 0],
      ['fhir:https://ehr.example/fhir', 'fhir', true, 'ok', 0, 0, 0],
      ['OLD@10.0.0.9:104', 'dicom', false, 'unconfigured', 1, 0, 0],
    ]);
    expect(states[1]).toMatchObject({ lastError: 'HTTP 403 Forbidden', nextAttemptAt: new Date(store.clock.t + 10_000).toISOString() });
    expect(states[0]!.lastSentAt).toBe(new Date(store.clock.t).toISOString());
    store.close();
  });
});

describe.skipIf(!existsSync(CHROMIUM))('destinations on the admin page (service + headless Chromium)', () => {
  let svc: RunningService;
  let browser: Browser;
  let stowUrl: string;
  let hookUrl: string;
  let hl7Port: number;
  let fhirUrl: string;
  const env = () => ({
    OSTEOSCREEN_OUTPUT_STOW: JSON.stringify([{ url: stowUrl, auth: 'bearer', token: 'stow-bearer-secret' }]),
    OSTEOSCREEN_OUTPUT_WEBHOOKS: JSON.stringify([{ url: hookUrl, secret: 'webhook-hmac-secret-123', onlyFlagged: true }]),
    OSTEOSCREEN_OUTPUT_HL7: `127.0.0.1:${hl7Port}`,
    OSTEOSCREEN_OUTPUT_FHIR: JSON.stringify([{ url: fhirUrl, auth: 'basic', user: 'osteo', password: 'fhir-basic-secret' }]),
  });
  beforeAll(async () => {
    stowUrl = `http://127.0.0.1:${await freePort()}/dicom-web`;
    hookUrl = `http://127.0.0.1:${await freePort()}/hook?key=query-secret`;
    hl7Port = await freePort();
    fhirUrl = `http://127.0.0.1:${await freePort()}/fhir/R4`;
    svc = await startService({ env: env() });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it('lists each configured destination with its kind and state; #study=<uid> opens the study; secrets are masked', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-dest-page-'));
    const series = writeMrSeries(tmp, { count: 2, description: 'localizer' });
    expect(storescu(svc.dicomPort, series.files).status).toBe(0);
    await waitFor(async () => (await svc.json<any[]>('/api/studies')).length > 0, 'study indexed');

    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${svc.httpPort}/#study=${encodeURIComponent(series.studyUid)}`);
    await page.fill('#token', svc.token);
    await page.click('#login-form button[type=submit]');
    // The webhook link's fragment opens the study's detail.
    await page.waitForSelector(`#detail:not([hidden]) >> text=${series.studyUid}`);
    await page.click('button[data-tab=outbox]');
    const stowRow = page.locator(`#destinations tr[data-destination="stow:${stowUrl}"]`);
    await stowRow.waitFor();
    expect(await stowRow.locator('td').nth(1).textContent()).toBe('stow');
    expect(await stowRow.locator('.badge').textContent()).toBe('ok');
    const hookRow = page.locator('#destinations tr[data-destination^="webhook:"]');
    expect(await hookRow.locator('td').nth(1).textContent()).toBe('webhook');
    const hl7Row = page.locator(`#destinations tr[data-destination="hl7:127.0.0.1:${hl7Port}"]`);
    expect(await hl7Row.locator('td').nth(1).textContent()).toBe('hl7');
    expect(await hl7Row.locator('.badge').textContent()).toBe('ok');
    const fhirRow = page.locator(`#destinations tr[data-destination="fhir:${fhirUrl}"]`);
    expect(await fhirRow.locator('td').nth(1).textContent()).toBe('fhir');
    expect(await fhirRow.locator('.badge').textContent()).toBe('ok');
    expect(await page.locator('#destinations').textContent()).not.toContain('query-secret');
    await page.close();

    const cfg = await svc.json<any>('/api/config');
    expect(cfg.output.stow[0]).toMatchObject({ url: stowUrl, auth: 'bearer', token: '********' });
    expect(cfg.output.webhooks[0]).toMatchObject({ secret: '********', onlyFlagged: true, url: expect.stringMatching(/\?\*{8}$/) });
    expect(cfg.output.fhir[0]).toMatchObject({ url: fhirUrl, auth: 'basic', user: 'osteo', password: '********' });
    const printed = spawnSync(process.execPath, [CLI, 'config'], { cwd: ROOT, env: { ...process.env, ...env() }, encoding: 'utf8' });
    expect(printed.status, printed.stderr).toBe(0);
    for (const secret of ['stow-bearer-secret', 'webhook-hmac-secret-123', 'query-secret', 'fhir-basic-secret']) {
      expect(printed.stdout).not.toContain(secret);
      expect(JSON.stringify(cfg)).not.toContain(secret);
    }
    expect(svc.logs()).not.toMatch(/stow-bearer-secret|webhook-hmac-secret-123|fhir-basic-secret/);
  });
});
