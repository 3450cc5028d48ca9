/** Config of the STOW-RS and webhook outputs: env var forms, validation messages, masking. */
import { describe, it, expect } from 'vitest';
import { loadConfig, maskedConfig, ConfigError } from '../../src/config/index.js';
import { interpretStowAnswer, parseNativeXml } from '../../src/output/stow.js';
import { stowKey } from '../../src/output/stow.js';

const load = (env: Record<string, string>) => loadConfig({ env });

describe('output.stow / output.webhooks config', () => {
  it('env: comma-separated STOW-RS URLs (auth none) or a JSON array; trailing slashes dropped', () => {
    expect(load({ OSTEOSCREEN_OUTPUT_STOW: 'https://a.example/dicom-web/,http://b.example:8042/dicom-web' }).output.stow).toEqual([
      { url: 'https://a.example/dicom-web', auth: 'none', timeoutSeconds: 120 },
      { url: 'http://b.example:8042/dicom-web', auth: 'none', timeoutSeconds: 120 },
    ]);
    const cfg = load({ OSTEOSCREEN_OUTPUT_STOW: JSON.stringify([{ url: 'https://v.example/wado', auth: 'basic', user: 'u', password: 'p' }]), OSTEOSCREEN_OUTPUT_WEBHOOKS: JSON.stringify([{ url: 'https://h.example/x', secret: 's'.repeat(20), onlyFlagged: true }]) });
    expect(cfg.output.stow[0]).toMatchObject({ auth: 'basic', user: 'u', password: 'p' });
    expect(cfg.output.webhooks[0]).toMatchObject({ onlyFlagged: true, timeoutSeconds: 10 });
  });

  it('refuses incomplete or contradictory auth, credentials in the URL, short secrets, unknown keys — naming the variable', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ url: 'https://a.example', auth: 'bearer' }, /auth bearer needs a token/],
      [{ url: 'https://a.example', auth: 'basic', user: 'u' }, /auth basic needs user and password/],
      [{ url: 'https://a.example', token: 't' }, /a token is set but auth is none/],
      [{ url: 'https://u:p@a.example' }, /not in the URL/],
      [{ url: 'ftp://a.example' }, /http:\/\/ or https:\/\//],
      [{ url: 'https://a.example', tokn: 'x' }, /tokn/],
    ];
    for (const [item, msg] of bad) {
      expect(() => load({ OSTEOSCREEN_OUTPUT_STOW: JSON.stringify([item]) }), JSON.stringify(item)).toThrow(msg);
      expect(() => load({ OSTEOSCREEN_OUTPUT_STOW: JSON.stringify([item]) })).toThrow(/OSTEOSCREEN_OUTPUT_STOW/);
    }
    expect(() => load({ OSTEOSCREEN_OUTPUT_WEBHOOKS: JSON.stringify([{ url: 'https://h.example', secret: 'short' }]) })).toThrow(/at least 16 characters/);
    expect(() => load({ OSTEOSCREEN_OUTPUT_WEBHOOKS: JSON.stringify([{ url: 'https://h.example', secret: 's'.repeat(16), caFile: '/nonexistent/ca.pem' }]) })).toThrow(ConfigError);
  });

  it('masks tokens, passwords, webhook secrets and URL query strings; destination keys hide the query too', () => {
    const cfg = load({
      OSTEOSCREEN_OUTPUT_STOW: JSON.stringify([{ url: 'https://a.example/dw', auth: 'bearer', token: 'TOKEN-1' }, { url: 'https://b.example/dw', auth: 'basic', user: 'u', password: 'PASS-2' }]),
      OSTEOSCREEN_OUTPUT_WEBHOOKS: JSON.stringify([{ url: 'https://h.example/x?apikey=KEY-3', secret: 'SECRET-4-xxxxxxxxxx' }]),
    });
    const shown = JSON.stringify(maskedConfig(cfg));
    for (const s of ['TOKEN-1', 'PASS-2', 'KEY-3', 'SECRET-4']) expect(shown).not.toContain(s);
    expect(shown).toContain('"user":"u"');
    expect(cfg.output.stow[0]!.token).toBe('TOKEN-1'); // the original is untouched
    expect(stowKey({ url: 'https://a.example/dw?k=KEY-3' })).toMatch(/^stow:https:\/\/a\.example\/dw\?#[0-9a-f]{8}$/);
  });
});

describe('STOW-RS answers', () => {
  const answer = (status: number, body: string, type = 'application/dicom+json') => ({ status, statusText: '', headers: { 'content-type': type }, body: Buffer.from(body) });
  it('200 without the instance listed is not stored (retried); 5xx retried; 3xx permanent; unreadable 200 retried', () => {
    expect(interpretStowAnswer(answer(200, '{}'), ['1.2'])).toMatchObject([{ ok: false, retryable: true, error: expect.stringMatching(/does not list/) }]);
    expect(interpretStowAnswer(answer(503, 'busy'), ['1.2'])).toMatchObject([{ ok: false, retryable: true, error: 'HTTP 503: busy' }]);
    expect(interpretStowAnswer({ ...answer(302, ''), headers: { location: 'https://x/' } }, ['1.2'])).toMatchObject([{ ok: false, retryable: false, error: expect.stringMatching(/redirected to https:\/\/x\//) }]);
    expect(interpretStowAnswer(answer(200, 'not json'), ['1.2'])).toMatchObject([{ ok: false, retryable: true, error: expect.stringMatching(/unreadable/) }]);
    // Out of resources in FailedSOPSequence is retried; other reasons are not.
    const failed = (code: number) => JSON.stringify({ '00081198': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2'] }, '00081197': { vr: 'US', Value: [code] } }] } });
    expect(interpretStowAnswer(answer(409, failed(0xa700)), ['1.2'])).toMatchObject([{ ok: false, retryable: true, error: expect.stringMatching(/A700H \(out of resources\)/) }]);
    expect(interpretStowAnswer(answer(409, failed(0xc000)), ['1.2'])).toMatchObject([{ ok: false, retryable: false }]);
  });

  it('reads the Native DICOM Model XML as Orthanc writes it (a stray <Value/> in a sequence, entities)', () => {
    const xml = `<?xml version="1.0"?><NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
  <DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence"><Item number="1">
    <DicomAttribute tag="00081155" vr="UI"><Value number="1">1.3</Value></DicomAttribute>
    <DicomAttribute tag="00081197" vr="US"><Value number="1">272</Value></DicomAttribute></Item></DicomAttribute>
  <DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence"><Item number="1">
    <DicomAttribute tag="00081155" vr="UI" keyword="ReferencedSOPInstanceUID"><Value number="1">1.2</Value></DicomAttribute>
    <DicomAttribute tag="00081190" vr="UR"><Value number="1">http://x/?a=1&amp;b=2</Value></DicomAttribute></Item><Value number="1" /></DicomAttribute>
</NativeDicomModel>`;
    const ds = parseNativeXml(xml) as any;
    expect(ds['00081199'].Value[0]['00081190'].Value).toEqual(['http://x/?a=1&b=2']);
    expect(interpretStowAnswer(answer(202, xml, 'application/dicom+xml'), ['1.2', '1.3'])).toMatchObject([{ ok: true }, { ok: false, status: 272, retryable: false }]);
  });
});
