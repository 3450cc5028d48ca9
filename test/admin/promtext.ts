/**
 * A small, strict parser of the Prometheus text exposition format 0.0.4, for tests. It throws on anything
 * a Prometheus server would reject or that is ambiguous: bad names, bad escapes, bad numbers, samples
 * before their TYPE, repeated HELP/TYPE, duplicate series, samples not belonging to their family's type,
 * non-cumulative histogram buckets, missing +Inf bucket, +Inf bucket ≠ _count.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  help?: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value "${s}"`);
  return Number(s);
}

function parseLabels(s: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without "="`);
    const name = s.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name "${name}"`);
    if (name in out) throw new Error(`line ${line}: repeated label "${name}"`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let j = eq + 2;
    let v = '';
    for (;;) {
      if (j >= s.length) throw new Error(`line ${line}: unterminated label value`);
      const c = s[j]!;
      if (c === '\\') {
        const n = s[j + 1];
        if (n === '\\') v += '\\';
        else if (n === '"') v += '"';
        else if (n === 'n') v += '\n';
        else throw new Error(`line ${line}: bad escape \\${n}`);
        j += 2;
        continue;
      }
      if (c === '"') break;
      if (c === '\n') throw new Error(`line ${line}: raw newline in label value`);
      v += c;
      j++;
    }
    out[name] = v;
    j++;
    if (j < s.length) {
      if (s[j] !== ',') throw new Error(`line ${line}: expected "," between labels`);
      j++;
    }
    i = j;
  }
  return out;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const helpSeen = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((raw, idx) => {
    const ln = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${ln}: bad metric name "${name}"`);
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`line ${ln}: bad type "${rest}"`);
        const existing = families.get(name);
        if (existing && (existing.samples.length || existing.type !== 'untyped' || !existing.help)) throw new Error(`line ${ln}: TYPE of ${name} repeated or after its samples`);
        const f: Family = existing ?? { name, type: 'untyped', samples: [] };
        f.type = rest as Family['type'];
        families.set(name, f);
        current = f;
      } else {
        if (helpSeen.has(name)) throw new Error(`line ${ln}: HELP of ${name} repeated`);
        helpSeen.add(name);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`line ${ln}: bad escape in HELP`);
        const f = families.get(name) ?? { name, type: 'untyped' as const, samples: [] };
        f.help = rest;
        families.set(name, f);
        current = f;
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?[ \t]+(\S+)([ \t]+(-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${ln}: not a sample: ${raw}`);
    const name = m[1]!;
    const labels = m[3] !== undefined ? parseLabels(m[3], ln) : {};
    const value = parseValue(m[4]!, ln);
    let family: Family | undefined;
    if (current && (name === current.name || (current.type === 'histogram' && [`${current.name}_bucket`, `${current.name}_sum`, `${current.name}_count`].includes(name)) || (current.type === 'summary' && [`${current.name}_sum`, `${current.name}_count`].includes(name)))) {
      family = current;
    }
    if (!family) throw new Error(`line ${ln}: sample ${name} outside its family (TYPE must come first)`);
    if (family.type === 'histogram' && name === family.name) throw new Error(`line ${ln}: bare sample in histogram ${name}`);
    if (family.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) throw new Error(`line ${ln}: bucket without le`);
    if (family.type === 'counter' && !(value >= 0)) throw new Error(`line ${ln}: counter ${name} is negative or NaN`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`line ${ln}: duplicate series ${key}`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  });
  for (const f of families.values()) {
    if (f.type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const s of f.samples) {
      const { le: _le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(s);
    }
    for (const [k, ss] of groups) {
      const buckets = ss.filter((s) => s.name.endsWith('_bucket')).map((s) => ({ le: parseValue(s.labels.le!, 0), v: s.value })).sort((a, b) => a.le - b.le);
      const count = ss.find((s) => s.name.endsWith('_count'));
      const sum = ss.find((s) => s.name.endsWith('_sum'));
      if (!buckets.length || buckets[buckets.length - 1]!.le !== Infinity) throw new Error(`${f.name}${k}: no +Inf bucket`);
      if (!count || !sum) throw new Error(`${f.name}${k}: missing _count or _sum`);
      for (let i = 1; i < buckets.length; i++) if (buckets[i]!.v < buckets[i - 1]!.v) throw new Error(`${f.name}${k}: buckets not cumulative`);
      if (buckets[buckets.length - 1]!.v !== count.value) throw new Error(`${f.name}${k}: +Inf bucket != _count`);
    }
  }
  return families;
}

/** Sum of a family's samples (optionally only those whose labels match). */
export function total(families: Map<string, Family>, name: string, match: Record<string, string> = {}, sampleName = name): number {
  const f = families.get(name);
  if (!f) throw new Error(`metric ${name} missing`);
  return f.samples.filter((s) => s.name === sampleName && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
