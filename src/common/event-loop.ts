/**
 * Event-loop delay monitor exposed as Prometheus gauges.
 *
 * A timer fires every `resolutionMs`; how late it fires is the event-loop delay (the same quantity
 * `perf_hooks.monitorEventLoopDelay` samples). It is measured here with an own timer rather than that histogram
 * because resetting the histogram also drops the interval in progress: a stall that starts within one resolution
 * after a reset (i.e. right after a scrape) would be missed entirely.
 *
 * `osteoscreen_event_loop_delay_max_seconds` is the largest delay of the main event loop since the previous scrape
 * of /metrics (the window restarts at each read: the usual "max over the scrape interval"), so a scraper or a test
 * reads the worst stall of the interval it cares about by scraping once to start a window and again to read it.
 * `osteoscreen_event_loop_delay_p99_seconds` is the 99th percentile of the same window;
 * `osteoscreen_event_loop_delay_max_since_start_seconds` never resets.
 */
import { performance } from 'node:perf_hooks';
import type { Registry } from './metrics.js';

export interface EventLoopMonitor {
  /** Largest delay (seconds) since the last reset. */
  maxSeconds(): number;
  /** 99th-percentile delay (seconds) since the last reset. */
  p99Seconds(): number;
  /** Largest delay (seconds) since start (never reset). */
  maxSinceStartSeconds(): number;
  /** Start a new window (the interval in progress is still measured). */
  reset(): void;
  stop(): void;
}

const MAX_SAMPLES = 50_000;

/** Sample the event-loop delay every `resolutionMs` (default 10 ms). The timer does not keep the process alive. */
export function startEventLoopMonitor(resolutionMs = 10): EventLoopMonitor {
  let last = performance.now();
  let windowMax = 0;
  let allMax = 0;
  let samples: number[] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    const delayMs = Math.max(0, now - last - resolutionMs);
    last = now;
    if (delayMs > windowMax) windowMax = delayMs;
    if (delayMs > allMax) allMax = delayMs;
    if (samples.length < MAX_SAMPLES) samples.push(delayMs);
  }, resolutionMs);
  timer.unref();
  /** The interval in progress counts too: a loop blocked right now shows up before its timer fires. */
  const pending = () => Math.max(0, performance.now() - last - resolutionMs);
  return {
    maxSeconds: () => Math.max(windowMax, pending()) / 1000,
    p99Seconds: () => {
      if (!samples.length) return 0;
      const s = [...samples].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))]! / 1000;
    },
    maxSinceStartSeconds: () => Math.max(allMax, pending()) / 1000,
    reset() {
      windowMax = 0;
      samples = [];
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/**
 * Register the gauges on `registry`. Reading `..._max_seconds` (rendering /metrics) restarts the window after
 * both window gauges were read (p99 is registered first, max second).
 */
export function registerEventLoopMetrics(registry: Registry, monitor: EventLoopMonitor = startEventLoopMonitor()): EventLoopMonitor {
  registry.gauge('osteoscreen_event_loop_delay_p99_seconds', 'p99 event-loop delay of the main thread since the previous scrape', () => [[{}, monitor.p99Seconds()]]);
  registry.gauge('osteoscreen_event_loop_delay_max_seconds', 'Largest event-loop delay (stall) of the main thread since the previous scrape', () => {
    const v = monitor.maxSeconds();
    monitor.reset();
    return [[{}, v]];
  });
  registry.gauge('osteoscreen_event_loop_delay_max_since_start_seconds', 'Largest event-loop delay of the main thread since start', () => [[{}, monitor.maxSinceStartSeconds()]]);
  return monitor;
}
