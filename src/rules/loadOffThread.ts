/**
 * Loads rule files on a worker thread, so that loading and validating 10k rules (seconds of YAML
 * parsing) never blocks the daemon's event loop for more than a few ms at a time: /healthz, /metrics
 * and running evaluations are served throughout a reload. The result is the same as loadRuleFiles'.
 *
 * Run from TypeScript sources (vitest importing src/), there is no compiled worker file next to this
 * one; the load then runs in-thread, which is the same code, only blocking.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadRuleFiles, type RuleLoadResult } from './load.js';
import { PieceAssembler, type LoadPiece, type LoadRequest } from './loadPieces.js';

const WORKER = new URL('./loadWorker.js', import.meta.url);

export async function loadRuleFilesOffThread(paths: readonly string[], opts: { maxFileBytes?: number } = {}): Promise<RuleLoadResult> {
  if (!existsSync(fileURLToPath(WORKER))) return loadRuleFiles(paths, opts);
  const request: LoadRequest = { paths: [...paths], ...(opts.maxFileBytes === undefined ? {} : { maxFileBytes: opts.maxFileBytes }) };
  const worker = new Worker(WORKER, { workerData: request });
  const assembler = new PieceAssembler();
  try {
    return await new Promise<RuleLoadResult>((resolve, reject) => {
      // Pull one piece at a time: each message is its own event-loop task on this thread.
      worker.on('message', (m: LoadPiece | { kind: 'ready' }) => {
        try {
          const done = m.kind === 'ready' ? null : assembler.add(m);
          if (done) resolve(done);
          else worker.postMessage('next');
        } catch (err) {
          reject(err);
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`rule loading worker exited early (code ${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}
