/** Config from the environment: errors name the variable, destination lists, and typo warnings. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { loadConfig, unknownEnvVars } from '../../src/config/index.js';
import { CLI, ROOT } from '../helpers/service.js';

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

describe('config from environment variables: every form', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-cfg-forms-'));

  it('booleans: true and false in every spelling (over a default true and a default false), anything else is an error naming the variable and key', () => {
    for (const f of ['false', 'FALSE', '0', 'no', 'off', 'Off']) {
      const c = loadConfig({ env: { OSTEOSCREEN_DICOM_CHECK_CALLED_AE_TITLE: f, OSTEOSCREEN_SELECTION_REQUIRE_ORIGINAL: f, OSTEOSCREEN_MODEL_REQUIRE_CALIBRATED: f } });
      expect([c.dicom.checkCalledAeTitle, c.selection.requireOriginal, c.model.requireCalibrated], f).toEqual([false, false, false]);
    }
    for (const t of ['true', 'True', '1', 'yes', 'on']) {
      // output.seg is the one boolean that defaults to false (model.requireCalibrated defaults to true since issue 18).
      const c = loadConfig({ env: { OSTEOSCREEN_OUTPUT_SEG: t } });
      expect(c.output.seg, t).toBe(true);
    }
    // The defaults, to show the variables above changed something.
    const d = loadConfig({ env: {} });
    expect([d.dicom.checkCalledAeTitle, d.selection.requireOriginal, d.output.seg, d.model.requireCalibrated]).toEqual([true, true, false, true]);
    for (const bad of ['maybe', '', 'falsey', '2']) {
      expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_SEG: bad } }), JSON.stringify(bad)).toThrow(
        `OSTEOSCREEN_OUTPUT_SEG (output.seg): expected true/false, got "${bad}"`,
      );
    }
  });

  it('lists: comma-separated (trimmed, empty items dropped), JSON arrays, empty = []; bad JSON and wrong item types are errors', () => {
    const c = loadConfig({ env: { OSTEOSCREEN_DICOM_ALLOWED_CALLING_AE_TITLES: ' MODALITY1, CT2 ,,PACS ', OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS: '["10.0.0.1","10.0.0.2"]' } });
    expect(c.dicom.allowedCallingAeTitles).toEqual(['MODALITY1', 'CT2', 'PACS']);
    expect(c.dicom.allowedSourceIps).toEqual(['10.0.0.1', '10.0.0.2']);
    // An empty variable empties a list the file set.
    const file = path.join(tmp, 'lists.yaml');
    writeFileSync(file, 'dicom:\n  allowedSourceIps: [10.0.0.9]\n');
    expect(loadConfig({ file, env: {} }).dicom.allowedSourceIps).toEqual(['10.0.0.9']);
    expect(loadConfig({ file, env: { OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS: '' } }).dicom.allowedSourceIps).toEqual([]);
    expect(() => loadConfig({ env: { OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS: '["10.0.0.1",' } })).toThrow(
      /^OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS \(dicom\.allowedSourceIps\): expected a JSON array or a comma-separated list$/,
    );
    expect(() => loadConfig({ env: { OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS: '[1]' } })).toThrow(
      /^OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS \(dicom\.allowedSourceIps\.0\): Invalid input: expected string, received number$/,
    );
  });

  it('numbers: parsed, and a non-number is an error naming the variable and key', () => {
    expect(loadConfig({ env: { OSTEOSCREEN_SEGMENTATION_EROSION_MM: '2.25', OSTEOSCREEN_DICOM_PORT: '104' } })).toMatchObject({ segmentation: { erosionMm: 2.25 }, dicom: { port: 104 } });
    expect(() => loadConfig({ env: { OSTEOSCREEN_SEGMENTATION_EROSION_MM: '' } })).toThrow('OSTEOSCREEN_SEGMENTATION_EROSION_MM (segmentation.erosionMm): expected a number, got ""');
  });

  it('enums (log.level): each value is taken, anything else (also another case) is an error listing the values', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) expect(loadConfig({ env: { OSTEOSCREEN_LOG_LEVEL: level } }).log.level).toBe(level);
    for (const bad of ['verbose', 'DEBUG', '']) {
      expect(() => loadConfig({ env: { OSTEOSCREEN_LOG_LEVEL: bad } }), JSON.stringify(bad)).toThrow(
        /^OSTEOSCREEN_LOG_LEVEL \(log\.level\): Invalid option: expected one of "debug"\|"info"\|"warn"\|"error"$/,
      );
    }
  });

  it('OSTEOSCREEN_CONFIG names the file; variables override it, --config wins over it; a missing file is an error', () => {
    const file = path.join(tmp, 'site.yaml');
    writeFileSync(file, 'dicom:\n  port: 2104\n  aeTitle: SITEAE\nlog:\n  level: warn\n');
    const other = path.join(tmp, 'other.yaml');
    writeFileSync(other, 'dicom:\n  port: 3104\n');
    expect(loadConfig({ env: { OSTEOSCREEN_CONFIG: file } })).toMatchObject({ dicom: { port: 2104, aeTitle: 'SITEAE' }, log: { level: 'warn' } });
    expect(loadConfig({ env: { OSTEOSCREEN_CONFIG: file, OSTEOSCREEN_DICOM_PORT: '4104' } })).toMatchObject({ dicom: { port: 4104, aeTitle: 'SITEAE' } });
    expect(loadConfig({ file: other, env: { OSTEOSCREEN_CONFIG: file } }).dicom).toMatchObject({ port: 3104, aeTitle: 'OSTEOSCREEN' });
    const missing = path.join(tmp, 'nope.yaml');
    expect(() => loadConfig({ env: { OSTEOSCREEN_CONFIG: missing } })).toThrow(`config file not found: ${missing}`);
    // An invalid value in the file named by the variable names the file.
    writeFileSync(other, 'log:\n  level: loud\n');
    expect(() => loadConfig({ env: { OSTEOSCREEN_CONFIG: other } })).toThrow(new RegExp(`^${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: log\.level: Invalid option`));
  });

  it('OSTEOSCREEN_CONFIG through the binary: `osteoscreen config` prints the file merged with the variables; a missing file exits 1', () => {
    const file = path.join(tmp, 'cli.yaml');
    writeFileSync(file, 'dicom:\n  port: 2204\nselection:\n  t1Description: t1w\n');
    const env = { ...process.env, OSTEOSCREEN_CONFIG: file, OSTEOSCREEN_DICOM_CHECK_CALLED_AE_TITLE: 'off', OSTEOSCREEN_DICOM_ALLOWED_CALLING_AE_TITLES: 'A,B' };
    const r = spawnSync(process.execPath, [CLI, 'config'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const c = YAML.parse(r.stdout);
    expect(c.dicom).toMatchObject({ port: 2204, checkCalledAeTitle: false, allowedCallingAeTitles: ['A', 'B'] });
    expect(c.selection.t1Description).toBe('t1w');
    const bad = spawnSync(process.execPath, [CLI, 'config'], { cwd: ROOT, env: { ...process.env, OSTEOSCREEN_CONFIG: path.join(tmp, 'nope.yaml') }, encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`config file not found: ${path.join(tmp, 'nope.yaml')}`);
  });

  it('an invalid regular expression is an error naming the variable (from the environment) or the file and key', () => {
    for (const key of ['EXCLUDE_DESCRIPTION', 'T1_DESCRIPTION', 'T2_DESCRIPTION'] as const) {
      const camel = { EXCLUDE_DESCRIPTION: 'excludeDescription', T1_DESCRIPTION: 't1Description', T2_DESCRIPTION: 't2Description' }[key];
      expect(() => loadConfig({ env: { [`OSTEOSCREEN_SELECTION_${key}`]: 't1(' } })).toThrow(
        new RegExp(`^OSTEOSCREEN_SELECTION_${key} \\(selection\\.${camel}\\): invalid regular expression: .*Unterminated group`),
      );
    }
    const file = path.join(tmp, 'regex.yaml');
    writeFileSync(file, 'selection:\n  excludeDescription: "stir|[tirm"\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(`${file}: selection.excludeDescription: invalid regular expression`);
    // A valid one is used as given.
    expect(loadConfig({ env: { OSTEOSCREEN_SELECTION_T2_DESCRIPTION: 't2|tse.*2' } }).selection.t2Description).toBe('t2|tse.*2');
  });
});
