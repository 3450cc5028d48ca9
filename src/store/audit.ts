import { statements, type DB, type Statements } from './db.js';

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  ip: string | null;
  action: string;
  target: string | null;
  detail: string | null;
}

/** Who (token id, IP) did which admin action, when. */
export class AuditLog {
  private readonly sql: Statements;

  constructor(db: DB) {
    this.sql = statements(db);
  }

  record(entry: { actor: string; ip?: string | null; action: string; target?: string | null; detail?: unknown }): void {
    this.sql('INSERT INTO audit (at, actor, ip, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(Date.now(), entry.actor, entry.ip ?? null, entry.action, entry.target ?? null, entry.detail === undefined ? null : JSON.stringify(entry.detail));
  }

  list(limit = 100): AuditRow[] {
    return this.sql('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[];
  }
}
