/**
 * Event-loop delay monitor (perf_hooks.monitorEventLoopDelay) exposed as Prometheus gauges.
 *
 * `osteoscreen_event_loop_delay_max_seconds` is the largest delay of the main event loop observed since the
 * previous scrape of /metrics (the histogram is reset after each read, the usual "max over the scrape
 * interval" pattern), so a scraper or a test reads the worst stall of the interval it cares about:
 * scrape once to start a window, scrape again to read the window's maximum.
 * `osteoscreen_event_loop_delay_p99_seconds` is the 99th percentile of the same window, and
 * `osteoscreen_event_loop_delay_max_since_start_seconds` never resets.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Registry } from './metrics.js';

export interface EventLoopMonitor {
  /** Largest delay (seconds) since the last reset. */
  maxSeconds(): number;
  /** 99th-percentile delay (seconds) since the last reset. */
  p99Seconds(): number;
  /** Largest delay (seconds) since start (never reset). */
  maxSinceStartSeconds(): number;
  /** Start a new window. */
  reset(): void;
  stop(): void;
}

const NS = 1e9;

/** Sample the event-loop delay every `resolutionMs` (default 10 ms). */
export function startEventLoopMonitor(resolutionMs = 10): EventLoopMonitor {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  let allTimeMax = 0;
  const windowMax = () => (h.count > 0 ? h.max / NS : 0);
  return {
    maxSeconds: windowMax,
    p99Seconds: () => (h.count > 0 ? h.percentile(99) / NS : 0),
    maxSinceStartSeconds: () => Math.max(allTimeMax, windowMax()),
    reset() {
      allTimeMax = Math.max(allTimeMax, windowMax());
      h.reset();
    },
    stop() {
      h.disable();
    },
  };
}

/**
 * Register the gauges on `registry`. Reading `..._max_seconds` (i.e. rendering /metrics) resets the window
 * after both window gauges were read (p99 is registered first, max second).
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
