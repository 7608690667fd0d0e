/**
 * The worker half of loadOffThread.ts: reads, parses and validates the rule files on its own thread
 * (parsing a large YAML file is slow and cannot be split: docs/benchmarks.md, "Rule loading"), then
 * hands the result to the daemon in small pieces, one per request, so the daemon's thread never
 * deserializes or freezes more than one piece between serving HTTP requests and timers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadRuleFiles } from './load.js';
import { piecesOf, type LoadRequest } from './loadPieces.js';

const port = parentPort;
if (port === null) throw new Error('loadWorker.js runs only as a worker thread');
const req = workerData as LoadRequest;
const pieces = piecesOf(await loadRuleFiles(req.paths, req.maxFileBytes === undefined ? {} : { maxFileBytes: req.maxFileBytes }));
let next = 0;
port.on('message', () => {
  port.postMessage(pieces[next++] ?? { kind: 'done', valid: false, files: [], blankFiles: [] });
});
port.postMessage({ kind: 'ready' });
