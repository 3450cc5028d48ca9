/**
 * A DICOM destination on loopback for delivery tests (a dcmjs-dimse SCP in the test process): accepts every
 * presentation context and records what it was sent, or refuses the association permanently, or answers C000.
 * Not started = nothing listens on its port (connection refused, like a PACS that is down).
 */
import dimse from 'dcmjs-dimse';
import { destinationKey } from '../../src/pipeline/deliver.js';

const { Server, Scp, constants, responses } = dimse as any;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = constants;

export type PeerMode = 'store' | 'reject-permanent' | 'status-c000';

/** A DICOM peer on loopback: counts associations and the SOP Instance UIDs it was sent (and stored, in `store` mode). */
export class Peer {
  mode: PeerMode = 'store';
  associations = 0;
  /** SOP Instance UIDs received (in `store` mode), in order. */
  stored: string[] = [];
  /** SOP Class UID of each stored instance, by SOP Instance UID. */
  classes = new Map<string, string>();
  private server: any;
  constructor(
    readonly aeTitle: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const peer = this;
    class PeerScp extends (Scp as any) {
      associationRequested(association: any): void {
        peer.associations++;
        if (peer.mode === 'reject-permanent') return this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
        for (const pc of association.getPresentationContexts()) {
          const ctx = association.getPresentationContext(pc.id);
          ctx.setResult(PresentationContextResult.Accept, ctx.getTransferSyntaxUids()[0]);
        }
        this.sendAssociationAccept();
      }
      associationReleaseRequested(): void {
        this.sendAssociationReleaseResponse();
      }
      cStoreRequest(request: any, callback: (r: any) => void): void {
        const r = responses.CStoreResponse.fromRequest(request);
        if (peer.mode === 'store') {
          peer.stored.push(request.getAffectedSopInstanceUid());
          peer.classes.set(request.getAffectedSopInstanceUid(), request.getAffectedSopClassUid());
        }
        r.setStatus(peer.mode === 'status-c000' ? 0xc000 : 0);
        callback(r);
      }
    }
    this.server = new Server(PeerScp);
    await new Promise((r) => {
      this.server.on('listening', r);
      this.server.listen(this.port);
    });
  }

  stop(): void {
    this.server?.close();
    this.server = undefined;
  }

  get key(): string {
    return destinationKey({ aeTitle: this.aeTitle, host: '127.0.0.1', port: this.port });
  }
}
