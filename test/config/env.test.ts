/** Config from the environment: errors name the variable, destination lists, and typo warnings. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, unknownEnvVars } from '../../src/config/index.js';

describe('config from environment variables', () => {
  it('an invalid value names the env var and the key, not "defaults"', () => {
    expect(() => loadConfig({ env: { OSTEOSCREEN_DICOM_PORT: '99999' } })).toThrow(/^OSTEOSCREEN_DICOM_PORT \(dicom\.port\): Too big/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_DICOM_PORT: '99999' } })).not.toThrow(/defaults/);
    // The same problem in a file names the file.
    expect(() => loadConfig({ env: {}, overrides: { dicom: { port: 99999 } } })).toThrow(/^defaults: dicom\.port: Too big/);
  });

  it('OSTEOSCREEN_OUTPUT_DESTINATIONS takes comma-separated AET@host:port items', () => {
    const c = loadConfig({ env: { OSTEOSCREEN_OUTPUT_DESTINATIONS: 'PACS1@10.0.0.1:104, PACS2@host:11112' } });
    expect(c.output.destinations).toEqual([
      { aeTitle: 'PACS1', host: '10.0.0.1', port: 104 },
      { aeTitle: 'PACS2', host: 'host', port: 11112 },
    ]);
    // JSON objects still work, and the single-destination shorthand adds to the list.
    const j = loadConfig({ env: { OSTEOSCREEN_OUTPUT_DESTINATIONS: '[{"aeTitle":"A","host":"h","port":1,"callingAeTitle":"ME"}]', OSTEOSCREEN_OUTPUT_DESTINATION: 'B@h2:2' } });
    expect(j.output.destinations).toEqual([
      { aeTitle: 'A', host: 'h', port: 1, callingAeTitle: 'ME' },
      { aeTitle: 'B', host: 'h2', port: 2 },
    ]);
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_DESTINATIONS: 'PACS1@10.0.0.1:104,nonsense' } })).toThrow(/^OSTEOSCREEN_OUTPUT_DESTINATIONS: expected AET@host:port, got "nonsense"/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_DESTINATIONS: 'P@h:70000' } })).toThrow(/OSTEOSCREEN_OUTPUT_DESTINATIONS: port out of range/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_DESTINATION: 'bad' } })).toThrow(/^OSTEOSCREEN_OUTPUT_DESTINATION: expected AET@host:port/);
  });

  it('YAML destinations may be AET@host:port strings too', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'osteo-cfg-env-')), 'c.yaml');
    writeFileSync(file, 'output:\n  destinations:\n    - PACS@pacs.local:104\n    - { aeTitle: B, host: b, port: 1 }\n');
    const c = loadConfig({ file, env: {} });
    expect(c.output.destinations).toEqual([{ aeTitle: 'PACS', host: 'pacs.local', port: 104 }, { aeTitle: 'B', host: 'b', port: 1 }]);
    writeFileSync(file, 'output:\n  destinations: [oops]\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(`${file}: output.destinations: expected AET@host:port, got "oops"`);
  });

  it('lists every OSTEOSCREEN_* variable that matches no key, with the closest real name', () => {
    const u = unknownEnvVars({
      OSTEOSCREEN_DICOM_PROT: '104',
      OSTEOSCREEN_DICOM_PORT: '104',
      OSTEOSCREEN_CONFIG: 'x.yaml',
      OSTEOSCREEN_DEBUG: '1',
      OSTEOSCREEN_OUTPUT_DESTINATON: 'A@b:1',
      OSTEOSCREEN_TOTALLY_UNRELATED_THING: '1',
      PATH: '/bin',
    });
    expect(u).toEqual([
      { name: 'OSTEOSCREEN_DICOM_PROT', suggestion: 'OSTEOSCREEN_DICOM_PORT' },
      { name: 'OSTEOSCREEN_OUTPUT_DESTINATON', suggestion: 'OSTEOSCREEN_OUTPUT_DESTINATION' },
      { name: 'OSTEOSCREEN_TOTALLY_UNRELATED_THING' },
    ]);
    expect(unknownEnvVars({ OSTEOSCREEN_HTTP_TOKEN: 'x', OSTEOSCREEN_LOG_LEVEL: 'debug' })).toEqual([]);
  });
});
