import { describe, expect, it } from 'vitest';
import { deterministicUid, isValidUid, newUid } from '../../src/dicom/uid.js';
import { outputSeriesDescription, outputUids } from '../../src/report/index.js';

describe('UIDs', () => {
  it('validates UID syntax', () => {
    expect(isValidUid('1.2.840.10008.1.2.1')).toBe(true);
    expect(isValidUid('2.25.0')).toBe(true);
    expect(isValidUid('1.2.03')).toBe(false); // leading zero
    expect(isValidUid('1..2')).toBe(false);
    expect(isValidUid('1.2.')).toBe(false);
    expect(isValidUid('1')).toBe(false);
    expect(isValidUid('1.2.a')).toBe(false);
    expect(isValidUid('1.' + '2'.repeat(63))).toBe(false); // 65 chars
    expect(isValidUid(42)).toBe(false);
  });

  it('makes fresh UIDs that are valid and distinct, with or without a root', () => {
    const a = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const u = newUid();
      const v = newUid('1.2.826.0.1.3680043.10.999');
      expect(isValidUid(u), u).toBe(true);
      expect(isValidUid(v), v).toBe(true);
      expect(u.startsWith('2.25.')).toBe(true);
      expect(v.startsWith('1.2.826.0.1.3680043.10.999.')).toBe(true);
      a.add(u).add(v);
    }
    expect(a.size).toBe(1000);
    expect(() => newUid('1.2.' + '3'.repeat(58))).toThrow(/too long/);
  });

  it('derives deterministic UIDs from parts', () => {
    const u = deterministicUid('study', 'model', 1);
    expect(u).toBe(deterministicUid('study', 'model', '1'));
    expect(isValidUid(u)).toBe(true);
    expect(u.length).toBeLessThanOrEqual(44);
    expect(deterministicUid('ab', 'c')).not.toBe(deterministicUid('a', 'bc'));
    // 128-bit integer: below 2^128
    expect(BigInt(u.slice(5)) < 1n << 128n).toBe(true);
  });

  it('outputUids: one series per (study, model version, model hash, kind); a new instance per revision', () => {
    const m = { version: '1.0.0', hash: 'sha256:' + 'a'.repeat(64) };
    const s = outputUids('1.2.3', m, 'sr');
    expect(s.seriesInstanceUid).toBe(outputUids('1.2.3', { ...m }, 'sr').seriesInstanceUid);
    expect(s.seriesInstanceUid).not.toBe(outputUids('1.2.3', { ...m, version: '1.1.0' }, 'sr').seriesInstanceUid);
    // calibrate keeps name and version but changes the hash: its own series
    expect(s.seriesInstanceUid).not.toBe(outputUids('1.2.3', { ...m, hash: 'sha256:' + 'b'.repeat(64) }, 'sr').seriesInstanceUid);
    expect(s.seriesInstanceUid).not.toBe(outputUids('1.2.3', m, 'summary').seriesInstanceUid);
    expect(s.seriesInstanceUid).not.toBe(outputUids('1.2.4', m, 'sr').seriesInstanceUid);
    expect(s.instanceUid()).toBe(s.instanceUid(1));
    expect(s.instanceUid(2)).not.toBe(s.instanceUid(1));
    expect(isValidUid(s.instanceUid(7))).toBe(true);
    expect(() => s.instanceUid(0)).toThrow();
    expect(s.seriesNumber).toBe(9901);
  });

  it('outputSeriesDescription says calibrated or uncalibrated, name and version always, UNVERIFIED and hash start when they fit', () => {
    const m = { name: 'paper-t1t2', version: '1.1.0', hash: 'sha256:3fa4c1' + '0'.repeat(58), calibrated: true };
    expect(outputSeriesDescription('sr', m)).toBe('OsteoScreen SR calibrated paper-t1t2 1.1.0 UNVERIFIED #3fa4c1');
    expect(outputSeriesDescription('seg', { ...m, calibrated: false })).toBe('OsteoScreen ROI uncalibrated paper-t1t2 1.1.0 UNVERIFIED #3fa4c1');
    // The shipped model's name: no room for the hash in the summary's description, version still complete.
    const shipped = { ...m, name: 'paper-t1t2-radscore', calibrated: false };
    expect(outputSeriesDescription('summary', shipped)).toBe('OsteoScreen summary uncalibrated paper-t1t2-radscore 1.1.0');
    expect(outputSeriesDescription('sr', shipped)).toBe('OsteoScreen SR uncalibrated paper-t1t2-radscore 1.1.0 UNVERIFIED');
    const long = outputSeriesDescription('summary', { ...m, name: 'x'.repeat(80) });
    expect(long.length).toBe(64);
    expect(long.endsWith('xx 1.1.0')).toBe(true);
  });
});
