/**
 * Send a stored Part-10 file's data set as it is, byte for byte.
 *
 * dcmjs-dimse's `CStoreRequest(path)` parses the whole file into a naturalized data set and writes it again just
 * before sending (`Dataset.getDenaturalizedDataset`), and that round trip mangles text: UT in UTF-8
 * (ISO_IR 192) arrives double-encoded. Here the request gets a `RawDataset`: a dcmjs-dimse `Dataset` that holds
 * only the two UIDs the request needs and returns the file's bytes after the meta group unchanged when
 * dcmjs-dimse asks for the encoded data set.
 *
 * The only time bytes change is when the peer accepted a different uncompressed transfer syntax than the file's:
 * explicit VR little endian is then rewritten to implicit VR little endian element by element (reencode.ts: the
 * value bytes stay as they are, only the VR fields go and lengths are recomputed). Other conversions are
 * refused (the request then fails with "no C-STORE response"): we never re-encode values.
 */
import dimse from 'dcmjs-dimse';
import { reencodeExplicitLE } from './reencode.js';
import { splitPart10, type Part10Parts } from './part10.js';

export { splitPart10 };

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A dcmjs-dimse Dataset whose encoded form is the given bytes, never a re-encoding. */
export class RawDataset extends dimse.Dataset {
  private raw: Buffer;
  constructor(raw: Buffer, parts: Pick<Part10Parts, 'transferSyntaxUid' | 'sopClassUid' | 'sopInstanceUid'>) {
    super({ SOPClassUID: parts.sopClassUid, SOPInstanceUID: parts.sopInstanceUid }, parts.transferSyntaxUid);
    this.raw = raw;
  }
  /** What dcmjs-dimse puts into the P-DATA-TF fragments. */
  override getDenaturalizedDataset(): Buffer {
    return this.raw;
  }
  bytes(): Buffer {
    return this.raw;
  }
  /** The same bytes in another transfer syntax, without re-encoding values (explicit -> implicit VR LE only). */
  convertedTo(ts: string): RawDataset {
    const from = this.getTransferSyntaxUid();
    if (from === ts) return this;
    if (from === EXPLICIT_LE && ts === IMPLICIT_LE) {
      return new RawDataset(reencodeExplicitLE(this.raw, { implicit: true }), { transferSyntaxUid: ts, sopClassUid: String(this.getElement('SOPClassUID')), sopInstanceUid: String(this.getElement('SOPInstanceUID')) });
    }
    throw new Error(`refusing to re-encode ${this.getElement('SOPInstanceUID')} from ${from} to ${ts}: the stored bytes are sent unchanged or not at all`);
  }
  static fromPart10(buf: Buffer): RawDataset {
    const parts = splitPart10(buf);
    return new RawDataset(buf.subarray(parts.datasetOffset), parts);
  }
}

// dcmjs-dimse transcodes a request's data set when the accepted transfer syntax differs from the data set's; its
// transcoder would re-encode from the (here nearly empty) element map. Route RawDatasets to the byte converter.
type Transcoding = { transcodeDataset(ds: unknown, ts: string, opts?: unknown): unknown; __rawAware?: boolean };
const transcoding = (dimse as unknown as { Transcoding?: Transcoding }).Transcoding;
if (transcoding && !transcoding.__rawAware) {
  const original = transcoding.transcodeDataset.bind(transcoding);
  transcoding.transcodeDataset = (ds: unknown, ts: string, opts?: unknown) => (ds instanceof RawDataset ? ds.convertedTo(ts) : original(ds, ts, opts));
  transcoding.__rawAware = true;
}
export const transcodingHooked = Boolean(transcoding?.__rawAware);
