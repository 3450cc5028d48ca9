/**
 * One log line per accepted association when it ends: who called (AE title, IP) and counts only (instances
 * stored / duplicates / refused, C-ECHOs, duration). Never a patient identifier or UID.
 */
import { logger } from '../common/log.js';

const log = logger('dicom:scp');

export class AssociationTally {
  private readonly t0 = Date.now();
  private accepted = false;
  private stored = 0;
  private failed = 0;
  private echoes = 0;
  private ended = false;

  constructor(private readonly ip: string) {}

  accept(): void {
    this.accepted = true;
  }
  echo(): void {
    this.echoes++;
  }
  /** A C-STORE answered with `status` (success and warnings count as stored). */
  store(status: number): void {
    if (status === 0 || (status & 0xf000) === 0xb000 || status === 0x0001) this.stored++;
    else this.failed++;
  }
  /** Logs once, when the association is over (released, aborted or the connection dropped). */
  end(callingAe: string, how = 'closed'): void {
    if (this.ended || !this.accepted) return;
    this.ended = true;
    const fields = { callingAe, ip: this.ip, stored: this.stored, failed: this.failed, echoes: this.echoes, seconds: ((Date.now() - this.t0) / 1000).toFixed(1), end: how };
    if (this.failed) log.warn('association ended', fields);
    else log.info('association ended', fields);
  }
}
