/**
 * Pixel data decoding for compressed transfer syntaxes.
 *
 * - dcmjs-codecs (WASM shipped inside the npm package, no download): RLE Lossless, JPEG Baseline (8-bit),
 *   JPEG Lossless SV1 (1.2.840.10008.1.2.4.70), JPEG-LS lossless/near-lossless, JPEG 2000 lossless/lossy,
 *   HT-JPEG 2000, explicit big endian. The file is transcoded to explicit VR little endian.
 * - jpeg-lossless-decoder-js (pure JS): JPEG Lossless process 14 with any predictor (1.2.840.10008.1.2.4.57),
 *   which dcmjs-codecs does not transcode.
 * Anything else (JPEG extended 12-bit, JPIP, MPEG, deflate failures ...) is reported as not decodable with the
 * syntax name, so the caller marks the study not-assessable with that reason.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless14: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  htj2kLossless: '1.2.840.10008.1.2.4.201',
  htj2kLosslessRpcl: '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
  rle: '1.2.840.10008.1.2.5',
} as const;

export const TS_NAMES: Record<string, string> = {
  [TS.implicitLE]: 'Implicit VR Little Endian',
  [TS.explicitLE]: 'Explicit VR Little Endian',
  [TS.deflatedLE]: 'Deflated Explicit VR Little Endian',
  [TS.explicitBE]: 'Explicit VR Big Endian',
  [TS.jpegBaseline]: 'JPEG Baseline (Process 1)',
  [TS.jpegExtended]: 'JPEG Extended (Process 2 & 4)',
  [TS.jpegLossless14]: 'JPEG Lossless (Process 14)',
  [TS.jpegLosslessSV1]: 'JPEG Lossless SV1 (Process 14, selection value 1)',
  [TS.jpegLsLossless]: 'JPEG-LS Lossless',
  [TS.jpegLsNearLossless]: 'JPEG-LS Near-Lossless',
  [TS.jpeg2000Lossless]: 'JPEG 2000 Lossless',
  [TS.jpeg2000]: 'JPEG 2000',
  [TS.htj2kLossless]: 'HTJ2K Lossless',
  [TS.htj2kLosslessRpcl]: 'HTJ2K Lossless RPCL',
  [TS.htj2k]: 'HTJ2K',
  [TS.rle]: 'RLE Lossless',
  '1.2.840.10008.1.2.4.100': 'MPEG2',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
};

export function transferSyntaxName(uid: string): string {
  return TS_NAMES[uid] ? `${TS_NAMES[uid]} (${uid})` : uid;
}

/** Native (uncompressed) syntaxes that dcmjs reads directly. */
export const NATIVE_SYNTAXES = new Set<string>([TS.implicitLE, TS.explicitLE, TS.deflatedLE]);
/** Syntaxes transcoded to explicit little endian by dcmjs-codecs. */
export const WASM_SYNTAXES = new Set<string>([
  TS.explicitBE,
  TS.jpegBaseline,
  TS.jpegLosslessSV1,
  TS.jpegLsLossless,
  TS.jpegLsNearLossless,
  TS.jpeg2000Lossless,
  TS.jpeg2000,
  TS.htj2kLossless,
  TS.htj2kLosslessRpcl,
  TS.htj2k,
  TS.rle,
]);
/** Syntaxes whose frames are decoded in JS (jpeg-lossless-decoder-js). */
export const JS_SYNTAXES = new Set<string>([TS.jpegLossless14]);

export function canDecode(uid: string): boolean {
  return NATIVE_SYNTAXES.has(uid) || WASM_SYNTAXES.has(uid) || JS_SYNTAXES.has(uid);
}

interface DcmjsCodecs {
  NativeCodecs: { initializeAsync(o?: { webAssemblyModulePathOrUrl?: string; logCodecsInfo?: boolean; logCodecsTrace?: boolean }): Promise<void>; isInitialized(): boolean };
  Transcoder: new (buf: ArrayBuffer) => { transcode(ts: string): void; getDicomPart10(): ArrayBuffer; getTransferSyntaxUid(): string };
  log: { setLevel(level: string): void };
}

let codecsPromise: Promise<DcmjsCodecs> | null = null;

/** Load and initialise dcmjs-codecs once (WASM from the package folder). */
export function loadWasmCodecs(): Promise<DcmjsCodecs> {
  if (!codecsPromise) {
    codecsPromise = (async () => {
      const mod = require('dcmjs-codecs') as DcmjsCodecs;
      try {
        mod.log.setLevel('error');
      } catch {
        /* logging level is cosmetic */
      }
      if (!mod.NativeCodecs.isInitialized()) {
        const wasm = join(dirname(require.resolve('dcmjs-codecs')), 'dcmjs-native-codecs.wasm');
        await mod.NativeCodecs.initializeAsync({ webAssemblyModulePathOrUrl: wasm, logCodecsInfo: false, logCodecsTrace: false });
      }
      return mod;
    })();
    codecsPromise.catch(() => {
      codecsPromise = null;
    });
  }
  return codecsPromise;
}

/** Transcode a whole Part-10 file to explicit VR little endian with dcmjs-codecs. */
export async function transcodeToExplicitLE(buf: ArrayBuffer): Promise<ArrayBuffer> {
  const mod = await loadWasmCodecs();
  const t = new mod.Transcoder(buf);
  t.transcode(TS.explicitLE);
  return t.getDicomPart10();
}

/** Decode one JPEG Lossless (process 14, any predictor) frame to 8/16-bit samples (little endian bytes). */
export function decodeJpegLosslessFrame(frame: Uint8Array): Uint8Array {
  const mod = require('jpeg-lossless-decoder-js') as { Decoder: new () => { decompress(buf: ArrayBuffer, offset?: number, length?: number): ArrayBuffer } };
  const dec = new mod.Decoder();
  const ab = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer;
  return new Uint8Array(dec.decompress(ab, 0, ab.byteLength));
}
