/**
 * The listener's SCP: dcmjs-dimse negotiates the association (checks below), answers A-RELEASE and handles A-ABORT;
 * P-DATA-TF never reaches it: commands and data sets go through our own path (dimse-receiver.ts, dimse-fast.ts),
 * C-ECHO is answered at once, a C-STORE's data set streams into an InstanceSink and is answered once stored
 * durably (storeReceived).
 */
import dimse from 'dcmjs-dimse';
import type { association as assoc } from 'dcmjs-dimse';
import type { Socket } from 'node:net';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { part10Header } from './part10.js';
import { AssociationTally } from './association-log.js';
import { OUR_MAX_PDU_LENGTH, PDU, type PduRoute } from './pdu-guard.js';
import { COMMAND, hasDataSet, responsePdu, type CommandSet } from './dimse-fast.js';
import { DimseReceiver, type DataSetConsumer, type DimseHandlers } from './dimse-receiver.js';
import type { Connections, Tracked } from './connections.js';
import { ACCEPTED_TRANSFER_SYNTAXES, InstanceSink, bufferPoolFor, STATUS, isStorageSopClass, storeReceived, type PendingStore, type ScpContext } from './scp.js';
import { diskFree } from '../store/index.js';

const { Scp, constants } = dimse;
type Association = assoc.Association;
type ScpOptions = ConstructorParameters<typeof Scp>[1];
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass } = constants;
dimse.log.setLevel('error');
const log = logger('dicom');

export function scpClass(ctx: ScpContext, deps: { allowAe: Set<string>; conns: Connections }) {
  const cfg = ctx.config.dicom;
  const m = ctx.metrics;
  const { allowAe, conns } = deps;

  return class OsteoScp extends Scp {
    private callingAe = '';
    private readonly sock: Socket;
    private readonly conn: Tracked;
    private readonly tally: AssociationTally;
    private readonly route: PduRoute;
    private readonly rx: DimseReceiver;
    /** The accepted presentation contexts (set when the A-ASSOCIATE-AC is sent). */
    private readonly contexts = new Map<number, { abstractSyntax: string; transferSyntax: string }>();
    private releasing = false;

    /** `route`: the PDU guard's (guardSocket); P-DATA-TF is taken from it before the library sees it. */
    constructor(socket: Socket, opts: ScpOptions, conn: Tracked, route: PduRoute) {
      super(socket, opts);
      this.sock = socket;
      this.conn = conn;
      this.route = route;
      // Commands we do not serve abort the association (they would otherwise hang unanswered).
      this.rx = new DimseReceiver(this.handlers());
      route.intercept = (pdu, own) => this.onPdu(pdu, own);
      route.headroom = (type) => this.rx.headroom(type);
      this.tally = new AssociationTally(conn.ip);
      this.on('close', () => this.tally.end(this.callingAe));
      try {
        socket.setNoDelay(true);
      } catch {
        /* not a TCP socket */
      }
    }

    override associationRequested(association: Association): void {
      this.callingAe = String(association.getCallingAeTitle()).trim();
      this.conn.callingAe = this.callingAe;
      const called = String(association.getCalledAeTitle()).trim();
      // PS3.8 table 9-21: a reason code means something only with its source (2 is "application context name not
      // supported" from the service user, "local limit exceeded" from the service provider's presentation layer).
      const refuse = (reason: string, rejReason: number, transient = false, source: number = RejectSource.ServiceUser) => {
        m.associations.inc({ result: 'refused', reason });
        log.warn('association refused', { reason, callingAe: this.callingAe, calledAe: called, ip: this.conn.ip });
        this.sendAssociationReject(transient ? RejectResult.Transient : RejectResult.Permanent, source, rejReason);
        this.sock.end(); // after the A-ASSOCIATE-RJ: the connection no longer holds a slot
      };
      if (allowAe.size && !allowAe.has(this.callingAe)) return refuse('calling-ae', RejectReason.CallingAeNotRecognized);
      if (cfg.checkCalledAeTitle && called !== cfg.aeTitle) return refuse('called-ae', RejectReason.CalledAeNotRecognized);
      if (!conns.admit()) return refuse('too-many-associations', RejectReason.LocalLimitExceeded, true, RejectSource.ServiceProviderPresentation);
      this.conn.associated = true;
      for (const pc of association.getPresentationContexts()) {
        const ctxObj = association.getPresentationContext(pc.id);
        const abstract = ctxObj.getAbstractSyntaxUid();
        if (abstract !== SopClass.Verification && !isStorageSopClass(abstract)) {
          ctxObj.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        const offered: string[] = ctxObj.getTransferSyntaxUids();
        const ts = ACCEPTED_TRANSFER_SYNTAXES.find((t) => offered.includes(t));
        if (ts) {
          ctxObj.setResult(PresentationContextResult.Accept, ts);
          this.contexts.set(pc.id, { abstractSyntax: abstract, transferSyntax: ts });
        } else ctxObj.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      // The maximum we advertise is what the PDU guard enforces (0 from the peer means "no limit" for its side only).
      const peerMax = Number(association.getMaxPduLength()) || 0;
      const max = peerMax > 0 ? Math.min(peerMax, OUR_MAX_PDU_LENGTH) : OUR_MAX_PDU_LENGTH;
      association.setMaxPduLength(max);
      this.conn.maxPdu = max;
      m.associations.inc({ result: 'accepted', reason: '' });
      log.debug('association accepted', { callingAe: this.callingAe, ip: this.conn.ip });
      this.tally.accept();
      this.sendAssociationAccept();
    }

    override abort(): void {
      log.warn('association aborted by the peer', { callingAe: this.callingAe, ip: this.conn.ip });
      // dcmjs-dimse leaves the TCP connection open after an A-ABORT: close it, so it stops counting against maxAssociations.
      this.tally.end(this.callingAe, 'aborted');
      this.sock.destroy();
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    /** P-DATA-TF PDUs come here (our own DIMSE path, dimse-receiver.ts), not to the library. */
    private onPdu(pdu: Buffer, own: boolean): boolean {
      const type = pdu[0];
      if (type === PDU.PDataTF) {
        if (this.releasing) {
          this.conn.close('protocol violation: P-DATA-TF after A-RELEASE-RQ', true);
          return true;
        }
        // The library's PDU timeout counts from the last PDU it saw: keep it from firing during a long burst.
        (this as unknown as { lastPduTime?: number }).lastPduTime = Date.now();
        this.rx.pdata(pdu, own);
        return true;
      }
      if (type === PDU.ReleaseRQ) {
        this.releasing = true;
        if (this.rx.pending === 0) return false;
        // A-RELEASE-RP only after every C-STORE-RSP still owed (the library would answer at once).
        this.rx.whenSettled(() => this.route.deliver(pdu));
        return true;
      }
      return false;
    }

    private handlers(): DimseHandlers {
      return {
        context: (id) => this.contexts.get(id),
        // An unsupported command keeps its own reason (and metric label), as when the library dispatched it.
        violation: (reason, protocol) => this.conn.close(protocol ? `protocol violation: ${reason}` : reason, true),
        command: (pcId, cmd) => {
          if (cmd.field === COMMAND.CStoreRq) return this.cStore(pcId, cmd);
          if (cmd.field === COMMAND.CEchoRq) {
            this.tally.echo();
            this.send(responsePdu({ presentationContextId: pcId, field: COMMAND.CEchoRsp, messageIdBeingRespondedTo: cmd.messageId, sopClassUid: cmd.rawSopClassUid ?? SopClass.Verification, status: STATUS.Success }));
            return undefined;
          }
          if (cmd.field === COMMAND.CCancelRq) return undefined; // nothing to cancel: C-STOREs are answered one by one
          return `unsupported DIMSE command 0x${cmd.field.toString(16).padStart(4, '0')}`;
        },
      };
    }

    private send(pdu: Buffer): void {
      if (!this.sock.destroyed && this.sock.writable) this.sock.write(pdu);
    }

    /** A C-STORE-RQ: checks, then its data set streams into an InstanceSink; answered once stored durably. */
    private cStore(pcId: number, cmd: CommandSet): DataSetConsumer | undefined {
      const pc = this.contexts.get(pcId)!;
      const ts = pc.transferSyntax;
      this.conn.busy++;
      this.rx.owe();
      const respond = (status: number, comment?: string) => {
        this.conn.busy = Math.max(0, this.conn.busy - 1);
        this.conn.lastData = Date.now();
        this.tally.store(status);
        this.send(
          responsePdu({
            presentationContextId: pcId,
            field: COMMAND.CStoreRsp,
            messageIdBeingRespondedTo: cmd.messageId,
            sopClassUid: cmd.rawSopClassUid ?? '',
            sopInstanceUid: cmd.rawSopInstanceUid ?? '',
            status,
            errorComment: comment,
          }),
        );
        this.rx.paid();
      };
      const finish = (pending: PendingStore) =>
        storeReceived(ctx, pending, { sopClassUid: cmd.sopClassUid, sopInstanceUid: cmd.sopInstanceUid }, this.callingAe)
          .then((r) => respond(r.status, r.reason))
          .catch((e) => {
            log.error('C-STORE failed', { error: errorMessage(e) });
            respond(STATUS.OutOfResources, 'internal error');
          });
      if (!hasDataSet(cmd)) {
        respond(STATUS.CannotUnderstand, 'no dataset');
        return undefined;
      }
      const refuse = (status: number, reason: string): DataSetConsumer => ({ data: () => undefined, end: () => void finish({ refuse: { status, reason }, transferSyntax: ts }) });
      const abstract = pc.abstractSyntax;
      const sopClass = cmd.sopClassUid;
      if (abstract !== sopClass) {
        const reason = `SOP class ${sopClass.slice(0, 64)} sent on a presentation context for ${abstract.slice(0, 64)}`;
        log.warn('C-STORE rejected', { reason, callingAe: this.callingAe });
        return refuse(STATUS.SopClassNotSupported, reason);
      }
      // Unknown free space (statfs failed): do not refuse on that.
      const free = diskFree(ctx.store.dir) ?? Infinity;
      const minFree = ctx.config.storage.minFreeMb * 1024 * 1024;
      if (free < minFree) {
        const reason = `free disk space ${(free / 1048576).toFixed(0)} MB is below storage.minFreeMb ${ctx.config.storage.minFreeMb} MB`;
        log.error('C-STORE refused: out of resources', { reason });
        return refuse(STATUS.OutOfResources, reason);
      }
      const header = part10Header(sopClass, cmd.sopInstanceUid, ts, this.callingAe);
      const pool = bufferPoolFor(ctx.store);
      const sink = new InstanceSink(ctx.store.blobs.tempPath(), header, undefined, (size) => pool.take(size));
      return {
        // A data set in one P-DATA-TF PDU split over socket reads: copied once, behind room for the Part-10 header
        // (12: the PDU and PDV headers in front of the value).
        headroom: header.length - 12,
        data: (fragment, alone) => {
          // An in-memory instance never pushes back; one spilled to its temp file may (then the socket waits).
          if (!(alone ? sink.adopt(fragment) : sink.append(fragment)) && !this.sock.isPaused()) {
            this.sock.pause();
            sink.once('drain', () => this.sock.resume());
          }
        },
        end: () => sink.end(() => void finish({ sink, transferSyntax: ts })),
      };
    }
  };
}
