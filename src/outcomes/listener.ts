/**
 * The HL7 v2 MLLP listener for DXA results (config outcomes.hl7*, off by default). A DXA workstation or interface
 * engine sends ORU^R01 messages; each is answered with an ACK (AA stored / AE / AR, src/outcomes/hl7-oru.ts) after
 * the outcome is committed to SQLite, so an AA means it survives a restart. Connections from addresses outside
 * outcomes.hl7AllowedSourceIps are closed at once; a message (or unframed data) larger than hl7MaxMessageBytes is
 * answered AR and the connection closed. Logs name the remote address, the control id and the outcome; never the
 * patient identifier.
 */
import net from 'node:net';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { mllpFrame, readFrames } from '../output/mllp.js';
import { buildAck, Hl7Refusal, mshOf, outcomeOfOru, parseHl7, type MshInfo } from './hl7-oru.js';

const log = logger('hl7-in');
const IDLE_MS = 120_000;

export interface OutcomeListener {
  port: number;
  close(): Promise<void>;
}

export interface ListenerCounters {
  onAnswer?: (code: 'AA' | 'AE' | 'AR') => void;
}

const normIp = (ip: string | undefined) => String(ip ?? '').replace(/^::ffff:/, '');

/** Answer one message's bytes: the ACK text (the outcome is stored before an AA is returned). */
export function handleOruMessage(store: Store, config: Config, bytes: Buffer): { code: 'AA' | 'AE' | 'AR'; ack: string; reason: string; controlId: string } {
  let msh: Partial<MshInfo> | null = null;
  try {
    const parsed = parseHl7(bytes.toString('utf8'));
    msh = mshOf(parsed);
    const outcome = outcomeOfOru(parsed, { allowedSendingApplications: config.outcomes.hl7AllowedSendingApplications, defaultIssuer: config.identity.defaultIssuer });
    store.outcomes.upsert([outcome]);
    return { code: 'AA', ack: buildAck(msh, 'AA', 'stored', null), reason: 'stored', controlId: msh.controlId ?? '' };
  } catch (e) {
    if (e instanceof Hl7Refusal) return { code: e.code, ack: buildAck(msh, e.code, e.message, e.errorCode), reason: e.message, controlId: msh?.controlId ?? '' };
    const reason = `not stored: ${errorMessage(e)}`;
    log.error('HL7 DXA result could not be stored', { error: errorMessage(e) });
    return { code: 'AE', ack: buildAck(msh, 'AE', 'internal error: not stored', '207'), reason, controlId: msh?.controlId ?? '' };
  }
}

export function startOutcomeListener(config: Config, store: Store, counters: ListenerCounters = {}): Promise<OutcomeListener> {
  const o = config.outcomes;
  const allowed = new Set(o.hl7AllowedSourceIps.map(normIp));
  if (!allowed.size) log.warn('outcomes.hl7AllowedSourceIps is empty: DXA results are accepted from any address');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const ip = normIp(socket.remoteAddress);
    if (allowed.size && !allowed.has(ip)) {
      log.warn('HL7 connection refused: address not in outcomes.hl7AllowedSourceIps', { ip });
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const { frames, rest } = readFrames(buf);
      buf = rest;
      for (const f of frames) {
        if (f.length > o.hl7MaxMessageBytes) {
          tooLarge();
          return;
        }
        const r = handleOruMessage(store, config, f);
        counters.onAnswer?.(r.code);
        if (r.code === 'AA') log.info('DXA result stored', { ip, controlId: r.controlId.slice(0, 40) });
        else log.warn(`DXA result refused (${r.code})`, { ip, controlId: r.controlId.slice(0, 40) || undefined, reason: r.reason });
        socket.write(mllpFrame(r.ack));
      }
      if (buf.length > o.hl7MaxMessageBytes) tooLarge();
    });
    const tooLarge = () => {
      const reason = `the message exceeds ${o.hl7MaxMessageBytes} bytes (outcomes.hl7MaxMessageBytes)`;
      log.warn('DXA result refused (AR)', { ip, reason });
      counters.onAnswer?.('AR');
      buf = Buffer.alloc(0);
      socket.end(mllpFrame(buildAck(null, 'AR', reason, '207')));
      socket.removeAllListeners('data');
    };
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'EADDRINUSE' ? `HL7 port ${o.hl7Port} is already in use (outcomes.hl7Port)` : `HL7 listener failed: ${e.message}`)));
    server.listen(o.hl7Port, o.hl7Host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : o.hl7Port;
      log.info('HL7 v2 DXA listener started', { port });
      resolve({
        port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
