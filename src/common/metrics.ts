/**
 * A small Prometheus registry (counters, gauges, histograms with labels) rendered in text format 0.0.4.
 * One registry per app instance is passed around explicitly (no global state).
 */
type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge' | 'histogram') {}
  abstract render(): string[];
}

export class Counter extends Metric {
  private values = new Map<string, number>();
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    if (!this.values.size) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Gauge extends Metric {
  private values = new Map<string, number>();
  private collector?: () => Array<[Labels, number]>;
  constructor(name: string, help: string, collector?: () => Array<[Labels, number]>) {
    super(name, help, 'gauge');
    this.collector = collector;
  }
  set(labels: Labels, v: number): void {
    this.values.set(labelKey(labels), v);
  }
  render(): string[] {
    const entries: Array<[string, number]> = this.collector ? this.collector().map(([l, v]) => [labelKey(l), v]) : [...this.values];
    if (!entries.length) return [];
    return entries.map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${Number.isFinite(v) ? v : 'NaN'}`);
  }
}

export class Histogram extends Metric {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, readonly buckets: number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]) {
    super(name, help, 'histogram');
  }
  observe(labels: Labels, v: number): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  render(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const pre = k ? `${k},` : '';
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${pre}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${pre}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string, collector?: () => Array<[Labels, number]>): Gauge {
    return this.add(new Gauge(name, help, collector));
  }
  histogram(name: string, help: string, buckets?: number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  private add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    const lines: string[] = [];
    for (const m of this.metrics) {
      lines.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${m.name} ${m.type}`, ...m.render());
    }
    return lines.join('\n') + '\n';
  }
}

/** The service's metrics, created once per app. */
export function createMetrics() {
  const r = new Registry();
  return {
    registry: r,
    instancesReceived: r.counter('osteoscreen_instances_received_total', 'DICOM instances received, by outcome (new, replaced, identical, rejected)'),
    bytesReceived: r.counter('osteoscreen_bytes_received_total', 'Bytes of DICOM instances stored'),
    associations: r.counter('osteoscreen_associations_total', 'DICOM associations, by result (accepted, refused) and reason'),
    seriesCompleted: r.counter('osteoscreen_series_completed_total', 'Series that became stable'),
    jobsFinished: r.counter('osteoscreen_jobs_finished_total', 'Jobs by final state'),
    stageSeconds: r.histogram('osteoscreen_stage_duration_seconds', 'Duration of pipeline stages (receive_to_stable, select, volume, segment, features, score, report, send)'),
    outputsSent: r.counter('osteoscreen_outputs_sent_total', 'Output instances delivered, by destination and result'),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
