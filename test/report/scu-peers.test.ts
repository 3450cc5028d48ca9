/**
 * sendFiles/echo against misbehaving peers (a dcmjs-dimse SCP in the test): association rejected,
 * presentation contexts rejected, failure statuses, and a peer that never answers (timeout).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dimse from 'dcmjs-dimse';
import type { association as dimseAssociation, requests as dimseRequests, responses as dimseResponses } from 'dcmjs-dimse';
import { echo, sendFiles } from '../../src/dicom/scu.js';
import { writePart10 } from '../../src/dicom/write.js';
import { buildSr, buildSummaryImage } from '../../src/report/index.js';
import { freePort } from '../helpers/ports.js';
import { makeInput } from './inputs.js';

const { Server, Scp, constants, responses } = dimse;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = constants;

type Mode = 'reject-association' | 'reject-transient' | 'reject-contexts' | 'status-a700' | 'status-c000' | 'silent';

let mode: Mode = 'silent';
let server: InstanceType<typeof Server> | undefined;
let port = 0;
const dir = mkdtempSync(join(tmpdir(), 'scu-peers-'));
let files: string[] = [];

class TestScp extends Scp {
  override associationRequested(association: dimseAssociation.Association): void {
    if (mode === 'reject-association') return this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
    if (mode === 'reject-transient') return this.sendAssociationReject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded);
    for (const pc of association.getPresentationContexts()) {
      const ctx = association.getPresentationContext(pc.id);
      if (mode === 'reject-contexts') ctx.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      else ctx.setResult(PresentationContextResult.Accept, ctx.getTransferSyntaxUids()[0]);
    }
    this.sendAssociationAccept();
  }
  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }
  override abort(): void {
    /* the SCU aborted (timeout test) */
  }
  override cEchoRequest(request: dimseRequests.CEchoRequest, callback: (r: dimseResponses.CEchoResponse) => void): void {
    if (mode === 'silent') return;
    const r = responses.CEchoResponse.fromRequest(request);
    r.setStatus(0);
    callback(r);
  }
  override cStoreRequest(request: dimseRequests.CStoreRequest, callback: (r: dimseResponses.CStoreResponse) => void): void {
    if (mode === 'silent') return; // never answer
    const r = responses.CStoreResponse.fromRequest(request);
    r.setStatus(mode === 'status-a700' ? 0xa700 : 0xc000);
    callback(r);
  }
}

beforeAll(async () => {
  port = await freePort();
  const s = (server = new Server(TestScp));
  await new Promise((r) => {
    s.on('listening', r);
    s.listen(port);
  });
  const input = makeInput('scored');
  files = [writePart10(buildSr(input), join(dir, 'sr.dcm')), writePart10(buildSummaryImage(input), join(dir, 'sc.dcm'))];
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const dest = () => ({ aeTitle: 'PEER', host: '127.0.0.1', port, callingAeTitle: 'OSTEOSCREEN' });

describe('sendFiles against misbehaving peers', () => {
  it('permanent association rejection: clear error, not retryable', async () => {
    mode = 'reject-association';
    const res = await sendFiles(dest(), files, { timeoutMs: 5000 });
    expect(res).toHaveLength(2);
    for (const r of res) {
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/association rejected by PEER@127\.0\.0\.1/);
      expect(r.retryable).toBe(false);
    }
    const e = await echo(dest(), { timeoutMs: 5000 });
    expect(e.ok).toBe(false);
    expect(e.error).toMatch(/association rejected/);
  });

  it('transient association rejection is retryable', async () => {
    mode = 'reject-transient';
    const res = await sendFiles(dest(), files, { timeoutMs: 5000 });
    expect(res).toHaveLength(2);
    expect(res.every((r) => !r.ok && r.retryable === true), JSON.stringify(res)).toBe(true);
    expect(res[0]!.error).toMatch(/association rejected by PEER@127\.0\.0\.1:\d+: transient; service provider \(presentation\): local limit exceeded \(result 2, source 3, reason 2\)$/);
  });

  it('rejected presentation contexts: every file fails with a reason, no hang', async () => {
    mode = 'reject-contexts';
    const t0 = Date.now();
    const res = await sendFiles(dest(), files, { timeoutMs: 5000 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res).toHaveLength(2);
    for (const r of res) {
      expect(r.ok).toBe(false);
      expect(r.error, JSON.stringify(r)).toBeTruthy();
    }
  });

  it('failure statuses are reported per file; A700 (out of resources) is retryable, C000 is not', async () => {
    mode = 'status-a700';
    let res = await sendFiles(dest(), files, { timeoutMs: 5000 });
    expect(res.map((r) => [r.ok, r.status, r.retryable])).toEqual([
      [false, 0xa700, true],
      [false, 0xa700, true],
    ]);
    expect(res[0]!.error).toMatch(/status 0xA700/);
    mode = 'status-c000';
    res = await sendFiles(dest(), files, { timeoutMs: 5000 });
    expect(res.map((r) => [r.ok, r.status, r.retryable])).toEqual([
      [false, 0xc000, false],
      [false, 0xc000, false],
    ]);
  });

  it('a peer that never answers: timed out, retryable, within the limit', async () => {
    mode = 'silent';
    const t0 = Date.now();
    const res = await sendFiles(dest(), files, { timeoutMs: 1500 });
    const ms = Date.now() - t0;
    // Bounded by the timeout (not by the peer, which never answers); generous for a loaded CI machine.
    expect(ms).toBeLessThan(15_000);
    expect(res).toHaveLength(2);
    for (const r of res) {
      expect(r.ok).toBe(false);
      expect(r.retryable).toBe(true);
      expect(r.error).toMatch(/timed out|network error/);
    }
    const e = await echo(dest(), { timeoutMs: 1500 });
    expect(e.ok).toBe(false);
  });
});

describe('sendFiles with nothing to send', () => {
  it('returns an empty list without connecting', async () => {
    expect(await sendFiles({ aeTitle: 'X', host: '127.0.0.1', port: 1, callingAeTitle: 'Y' }, [])).toEqual([]);
  });
});
