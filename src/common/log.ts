/**
 * Minimal structured logger. One line per event: `2026-01-01T00:00:00.000Z INFO  [scope] message key=value ...`.
 * Never pass patient identifiers (PatientName, PatientID, PatientBirthDate, AccessionNumber) to it:
 * log UIDs, counts and reasons only. `redactFields` drops the usual identifier keys defensively.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const PHI_KEYS = new Set(['patientname', 'patientid', 'patientbirthdate', 'accessionnumber', 'otherpatientids', 'patientaddress']);

let threshold: LogLevel = (process.env.OSTEOSCREEN_LOG_LEVEL as LogLevel) in ORDER ? (process.env.OSTEOSCREEN_LOG_LEVEL as LogLevel) : 'info';
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function fmtValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /[\s="]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

export function logger(scope: string): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[threshold]) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${scope}] ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined || PHI_KEYS.has(k.toLowerCase())) continue;
        line += ` ${k}=${fmtValue(v)}`;
      }
    }
    sink(line);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (s) => logger(`${scope}:${s}`),
  };
}
