/** Progress output for long CLI work: a line per step on stderr with count, percentage and ETA. */
export class Progress {
  private readonly start = Date.now();
  private done = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  ) {}

  tick(what = ''): void {
    this.done++;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = this.done / Math.max(elapsed, 1e-6);
    const eta = this.total > this.done ? (this.total - this.done) / rate : 0;
    const pct = this.total ? ((100 * this.done) / this.total).toFixed(0) : '100';
    this.out(`${this.label} ${this.done}/${this.total} (${pct}%) elapsed ${elapsed.toFixed(1)}s eta ${eta.toFixed(1)}s ${what}`.trimEnd());
  }
}
