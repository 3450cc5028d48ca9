/** ISO 2022 decoding (issue 14): the PS3.5 Annex H (Japanese) and Annex I (Korean) examples. */
import { describe, it, expect } from 'vitest';
import { decodeIso2022, needsIso2022 } from '../../src/dicom/charset.js';
import { YAMADA_IR87, YAMADA_IR13_87, HONG_IR149 } from '../helpers/iso2022.js';

const ESC = 0x1b;
const b = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const KSC = [ESC, 0x24, 0x29, 0x43];

describe('ISO 2022 character sets', () => {
  it('decodes the Annex H Japanese examples (IR 87 with ASCII, IR 13 + IR 87)', () => {
    expect(decodeIso2022(YAMADA_IR87, ['', 'ISO 2022 IR 87'], 'PN')).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
    expect(decodeIso2022(YAMADA_IR13_87, ['ISO 2022 IR 13', 'ISO 2022 IR 87'], 'PN')).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });
  it('decodes the Annex I Korean example (IR 149) and resets to the default at PN delimiters', () => {
    expect(decodeIso2022(HONG_IR149, ['', 'ISO 2022 IR 149'], 'PN')).toBe('Hong^Gildong=洪^吉洞=홍^길동');
  });
  it('Latin-1 default with a Korean extension (ISO 2022 IR 100\\ISO 2022 IR 149)', () => {
    expect(decodeIso2022(b('Wirbels', [0xe4], 'ule ', KSC, [0xc8, 0xab]), ['ISO 2022 IR 100', 'ISO 2022 IR 149'], 'LO')).toBe('Wirbelsäule 홍');
  });
  it('knows which values dcmjs cannot read', () => {
    expect(needsIso2022(['', 'ISO 2022 IR 87'])).toBe(true);
    expect(needsIso2022(['ISO_IR 100'])).toBe(false);
    expect(needsIso2022(['ISO_IR 192'])).toBe(false);
  });
});
