/**
 * The one scanner key of the service: drift statistics, per-scanner calibration and the choice of model per
 * study all group studies by it. "Manufacturer / Model / Station" from the source header (T1 preferred), each
 * part trimmed (DICOM pads strings with spaces), '?' for a missing or blank part.
 */
export interface ScannerInfo {
  manufacturer?: string | null;
  model?: string | null;
  station?: string | null;
}

export function scannerKey(s: ScannerInfo | null | undefined): string {
  const part = (v: string | null | undefined) => (typeof v === 'string' && v.trim() ? v.trim() : '?');
  return `${part(s?.manufacturer)} / ${part(s?.model)} / ${part(s?.station)}`;
}
