/** The durable-writer thread of GroupCommitter (group-commit.ts): batches of files written, fsynced, renamed. */
import { parentPort } from 'node:worker_threads';
import { writeBatchSync, type DurableJob } from './group-commit.js';

let queue: DurableJob[] = [];
let scheduled = false;

// Every job that arrives while a batch is on disk joins the next batch (messages are delivered before setImmediate).
parentPort!.on('message', (j: DurableJob) => {
  queue.push(j);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});

function flush(): void {
  scheduled = false;
  const batch = queue;
  queue = [];
  const done = writeBatchSync(batch);
  // Buffers the main thread gave up (transferred) go back to it for re-use (GroupCommitter's recycle).
  const buffers = batch.filter((j) => j.recycle && j.bytes && j.bytes.byteOffset === 0 && j.bytes.buffer instanceof ArrayBuffer).map((j) => j.bytes!.buffer as ArrayBuffer);
  parentPort!.postMessage({ done, buffers }, buffers);
}
