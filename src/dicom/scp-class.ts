/** The dcmjs-dimse SCP of the listener: association checks, C-ECHO, streamed C-STORE (see storeReceived). */
import dimse from 'dcmjs-dimse';
import type { association as assoc, requests, responses as resp, Dataset as DimseDataset } from 'dcmjs-dimse';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { part10Header } from './part10.js';
import { AssociationTally } from './association-log.js';
import { OUR_MAX_PDU_LENGTH } from './pdu-guard.js';
import type { Connections, Tracked } from './connections.js';
import { ACCEPTED_TRANSFER_SYNTAXES, DiscardWriter, InstanceSink, STATUS, isStorageSopClass, storeReceived, type PendingStore, type ScpContext } from './scp.js';
import { diskFree } from '../store/index.js';

const { Scp, Dataset, constants, responses } = dimse;
type Association = assoc.Association;
type PresentationContext = assoc.PresentationContext;
type ScpOptions = ConstructorParameters<typeof Scp>[1];
/** dcmjs-dimse's command dispatcher: not in its typings, wrapped below to refuse commands we do not serve. */
type WithPerformDimse = { _performDimse(pc: unknown, cmd: { getCommandFieldType?(): number } | undefined): void };
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass } = constants;
dimse.log.setLevel('error');
const log = logger('dicom');

/** DIMSE commands we serve; anything else aborts the association (it would otherwise hang unanswered). */
const SERVED_COMMANDS = new Set([0x0030 /* C-ECHO-RQ */, 0x0001 /* C-STORE-RQ */, 0x0fff /* C-CANCEL-RQ */]);

export function scpClass(ctx: ScpContext, deps: { allowAe: Set<string>; conns: Connections }) {
  const cfg = ctx.config.dicom;
  const m = ctx.metrics;
  const { allowAe, conns } = deps;

  return class OsteoScp extends Scp {
    private pending = new WeakMap<object, PendingStore>();
    private callingAe = '';
    private readonly sock: Socket;
    private readonly conn: Tracked;
    private readonly tally: AssociationTally;

    constructor(socket: Socket, opts: ScpOptions, conn: Tracked) {
      super(socket, opts);
      this.sock = socket;
      this.conn = conn;
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
        if (ts) ctxObj.setResult(PresentationContextResult.Accept, ts);
        else ctxObj.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
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

    _performDimse(pc: unknown, cmd: { getCommandFieldType?(): number } | undefined): void {
      const field = Number(cmd?.getCommandFieldType?.());
      if (!SERVED_COMMANDS.has(field)) {
        this.conn.close(`unsupported DIMSE command 0x${field.toString(16).padStart(4, '0')}`, true);
        return;
      }
      (Scp.prototype as unknown as WithPerformDimse)._performDimse.call(this, pc, cmd);
    }

    override cEchoRequest(request: requests.CEchoRequest, callback: (r: resp.CEchoResponse) => void): void {
      const resp = responses.CEchoResponse.fromRequest(request);
      resp.setStatus(STATUS.Success);
      this.tally.echo();
      callback(resp);
    }

    override createStoreWritableStream(pc: PresentationContext, request: requests.CStoreRequest): Writable {
      const ts = pc.getAcceptedTransferSyntaxUid() ?? ''; // always set on a context that carried a C-STORE
      this.conn.busy++;
      const refuse = (status: number, reason: string) => {
        const w = new DiscardWriter();
        this.pending.set(w, { refuse: { status, reason }, transferSyntax: ts });
        return w;
      };
      const abstract = String(pc.getAbstractSyntaxUid());
      const sopClass = String(request.getAffectedSopClassUid());
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
      const header = part10Header(sopClass, request.getAffectedSopInstanceUid(), ts, this.callingAe);
      const w = new InstanceSink(ctx.store.blobs.tempPath(), header);
      this.pending.set(w, { sink: w, transferSyntax: ts });
      return w;
    }

    override createDatasetFromStoreWritableStream(ws: Writable, pc: PresentationContext, callback: (ds: DimseDataset) => void): void {
      const ds = new Dataset({}, pc.getAcceptedTransferSyntaxUid() ?? '');
      const pending = this.pending.get(ws);
      ws.end(() => {
        if (pending) this.pending.set(ds, pending);
        callback(ds);
      });
    }

    override cStoreRequest(request: requests.CStoreRequest, callback: (r: resp.CStoreResponse) => void): void {
      const ds = request.getDataset();
      const pending = ds ? this.pending.get(ds) : undefined;
      const respond = (status: number, comment?: string) => {
        this.conn.busy = Math.max(0, this.conn.busy - 1);
        this.conn.lastData = Date.now();
        const resp = responses.CStoreResponse.fromRequest(request);
        resp.setStatus(status);
        this.tally.store(status);
        if (comment) resp.setErrorComment?.(comment.slice(0, 64));
        callback(resp);
      };
      if (!pending) {
        respond(STATUS.CannotUnderstand, 'no dataset');
        return;
      }
      storeReceived(ctx, pending, { sopClassUid: request.getAffectedSopClassUid(), sopInstanceUid: request.getAffectedSopInstanceUid() }, this.callingAe)
        .then((r) => respond(r.status, r.reason))
        .catch((e) => {
          log.error('C-STORE failed', { error: errorMessage(e) });
          respond(STATUS.OutOfResources, 'internal error');
        });
    }
  };
}
