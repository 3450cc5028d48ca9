import dimse from 'dcmjs-dimse';

const { Client, Dataset, requests, constants } = dimse as any;
dimse.log.setLevel('silent');

/** A dataset whose encoded bytes are exactly `raw` (to send malformed data past a well-behaved SCU). */
class RawDataset extends Dataset {
  constructor(private readonly raw: Buffer, sopClassUid: string, sopInstanceUid: string, ts: string) {
    super({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }, ts);
  }
  getDenaturalizedDataset(): Buffer {
    return this.raw;
  }
}

/** C-STORE raw dataset bytes; resolves with the DIMSE status (or null if the association failed). */
export function sendRawDataset(port: number, raw: Buffer, opts: { sopClassUid?: string; sopInstanceUid: string; ts?: string; aec?: string }): Promise<{ status: number | null; error?: string }> {
  return new Promise((resolve) => {
    const client = new Client();
    const ds = new RawDataset(raw, opts.sopClassUid ?? '1.2.840.10008.5.1.4.1.1.4', opts.sopInstanceUid, opts.ts ?? constants.TransferSyntax.ExplicitVRLittleEndian);
    const req = new requests.CStoreRequest(ds);
    let status: number | null = null;
    let error: string | undefined;
    req.on('response', (r: any) => (status = r.getStatus()));
    client.addRequest(req);
    client.on('networkError', (e: Error) => (error = e.message));
    client.on('associationRejected', () => (error = 'association rejected'));
    client.on('closed', () => resolve({ status, error }));
    client.send('127.0.0.1', port, 'RAWSCU', opts.aec ?? 'OSTEOSCREEN');
  });
}
