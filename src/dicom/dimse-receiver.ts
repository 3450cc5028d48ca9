/**
 * The listener's DIMSE message assembly (issue 28): whole P-DATA-TF PDUs in (from the PDU guard), commands and
 * data set fragments out, without dcmjs-dimse. Association negotiation, A-RELEASE and A-ABORT stay with the library.
 *
 * Per PS3.7/PS3.8 without asynchronous operations: one message at a time; its command fragments, then (when the
 * command says a data set follows) its data fragments, all on the command's presentation context. A PDU may carry
 * the end of one message and the start of the next, on another presentation context. Anything else is a protocol
 * violation (the caller aborts the association).
 *
 * It also counts responses still owed: an A-RELEASE-RQ that arrives while some are pending is held until the last
 * one was written (`hold` / `settled`).
 */
import { MAX_COMMAND_BYTES, hasDataSet, parseCommandSet, parsePdvs, type CommandSet } from './dimse-fast.js';

export interface DataSetConsumer {
  /**
   * Spare bytes wanted before the data set's first PDU when it is copied out of several socket chunks (the
   * consumer may then take that PDU's buffer over: `alone`).
   */
  readonly headroom?: number;
  /**
   * One data set fragment (a view of the PDU). `alone`: it is the only PDV of a PDU that sits in a buffer of its
   * own after `headroom` spare bytes; the consumer may keep and write into that whole buffer.
   */
  data(fragment: Buffer, alone: boolean): void;
  /** The last fragment was passed on. */
  end(): void;
}

export interface DimseHandlers {
  /** The accepted presentation context `id`, or undefined when it was not accepted. */
  context(id: number): { abstractSyntax: string; transferSyntax: string } | undefined;
  /**
   * A complete command on presentation context `pcId`. Returns the consumer of its data set when it has one (a
   * C-STORE-RQ); undefined when the message is handled; a string: the association is to be aborted for that reason.
   */
  command(pcId: number, cmd: CommandSet): DataSetConsumer | string | undefined;
  /**
   * Abort the association with this reason: a protocol violation (`protocol` true), or a command the handler
   * refused (`command` returned a string). Nothing more is parsed after it.
   */
  violation(reason: string, protocol: boolean): void;
}

export class DimseReceiver {
  private commandPc?: number;
  private commandParts: Buffer[] = [];
  private commandBytes = 0;
  private data?: { pcId: number; consumer: DataSetConsumer; started: boolean };
  private dead = false;
  private owed = 0;
  private onSettled: (() => void)[] = [];

  constructor(private readonly h: DimseHandlers) {}

  /** Responses still owed (C-STOREs being received or stored). */
  get pending(): number {
    return this.owed;
  }
  /** A response is owed from now on. */
  owe(): void {
    this.owed++;
  }
  /** A response owed was written (or can no longer be). */
  paid(): void {
    this.owed = Math.max(0, this.owed - 1);
    if (this.owed === 0) for (const f of this.onSettled.splice(0)) f();
  }
  /** Run `f` once no response is owed (now, if none is). */
  whenSettled(f: () => void): void {
    if (this.owed === 0) f();
    else this.onSettled.push(f);
  }

  /** Spare bytes wanted before the next PDU of `type` (for a data set about to start: see DataSetConsumer). */
  headroom(type: number): number {
    return type === 4 && this.data && !this.data.started ? (this.data.consumer.headroom ?? 0) : 0;
  }

  /** A whole P-DATA-TF PDU (header included); `own`: it sits alone in a buffer of its own (PduAssembler.owns). */
  pdata(pdu: Buffer, own = false): void {
    if (this.dead) return;
    const pdvs = parsePdvs(pdu);
    if (typeof pdvs === 'string') return this.fail(`malformed P-DATA-TF: ${pdvs}`);
    const alone = own && pdvs.length === 1;
    for (const p of pdvs) {
      if (this.dead) return;
      if (p.command) this.commandFragment(p.presentationContextId, p.value, p.last);
      else this.dataFragment(p.presentationContextId, p.value, p.last, alone);
    }
  }

  private fail(reason: string, protocol = true): void {
    this.dead = true;
    this.h.violation(reason, protocol);
  }

  private commandFragment(pcId: number, value: Buffer, last: boolean): void {
    if (this.data) return this.fail(`command fragment on presentation context ${pcId} while a data set is being received`);
    if (this.commandPc !== undefined && this.commandPc !== pcId) return this.fail(`command fragments on presentation contexts ${this.commandPc} and ${pcId}`);
    if (!this.h.context(pcId)) return this.fail(`command on presentation context ${pcId}, which was not accepted`);
    this.commandBytes += value.length;
    if (this.commandBytes > MAX_COMMAND_BYTES) return this.fail(`command set longer than ${MAX_COMMAND_BYTES} bytes`);
    this.commandPc = pcId;
    this.commandParts.push(value);
    if (!last) return;
    const bytes = this.commandParts.length === 1 ? this.commandParts[0]! : Buffer.concat(this.commandParts);
    this.commandPc = undefined;
    this.commandParts = [];
    this.commandBytes = 0;
    const cmd = parseCommandSet(bytes);
    if (typeof cmd === 'string') return this.fail(`malformed command set: ${cmd}`);
    const consumer = this.h.command(pcId, cmd);
    if (typeof consumer === 'string') return this.fail(consumer, false);
    if (hasDataSet(cmd)) {
      if (!consumer) return this.fail(`no data set expected for command 0x${cmd.field.toString(16).padStart(4, '0')}`);
      this.data = { pcId, consumer, started: false };
    }
  }

  private dataFragment(pcId: number, value: Buffer, last: boolean, alone: boolean): void {
    const d = this.data;
    if (!d) return this.fail(`data fragment on presentation context ${pcId} without a command`);
    if (d.pcId !== pcId) return this.fail(`data fragment on presentation context ${pcId} for a command on ${d.pcId}`);
    d.started = true;
    if (value.length) d.consumer.data(value, alone);
    if (last) {
      this.data = undefined;
      d.consumer.end();
    }
  }
}
