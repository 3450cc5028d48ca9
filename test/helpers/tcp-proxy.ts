/**
 * A TCP proxy in front of a real server (a PACS in tests): counts the connections open at once (what the server
 * sees), can hold each new connection for `delayMs` before connecting upstream (so that overlapping clients do
 * overlap), and can go down (connections refused, open ones cut) and come back on the same port. In `drop` mode it
 * accepts each new TCP connection and closes it at once (a peer that is up but does not answer).
 */
import net from 'node:net';
import { freePort } from './ports.js';

export class TcpProxy {
  port = 0;
  open = 0;
  maxOpen = 0;
  connections = 0;
  mode: 'pass' | 'drop' = 'pass';
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly upstreamPort: number,
    private readonly delayMs = 0,
  ) {}

  async up(): Promise<void> {
    if (!this.port) this.port = await freePort();
    this.server = net.createServer((client) => this.handle(client));
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
  }

  /** Stop listening (new connections are refused) and cut the open ones. */
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }

  private handle(client: net.Socket): void {
    if (this.mode === 'drop') {
      client.destroy();
      return;
    }
    this.connections++;
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open--;
    };
    client.on('close', close);
    client.on('error', () => undefined);
    client.pause();
    this.sockets.add(client);
    setTimeout(() => {
      if (client.destroyed) return;
      const up = net.connect(this.upstreamPort, '127.0.0.1');
      this.sockets.add(up);
      up.on('close', () => (this.sockets.delete(up), client.destroy()));
      client.on('close', () => (this.sockets.delete(client), up.destroy()));
      up.on('error', () => client.destroy());
      client.pipe(up);
      up.pipe(client);
      client.resume();
    }, this.delayMs);
  }
}
