/** Structured logs: expected errors are one message without a stack; bugs (and debug level) keep it. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';

class StoreDownError extends Error {
  override readonly name = 'StoreDownError';
}

function logged(level: string, err: unknown): Record<string, unknown> {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  logger.error({ err }, 'evaluation failed');
  logger.flush();
  return (JSON.parse(chunks.join('').trim()) as { err: Record<string, unknown> }).err;
}

describe('error lines', () => {
  const cases: { name: string; level: string; err: Error; stack: boolean }[] = [
    { name: 'an expected error at info: message and type, no stack', level: 'info', err: new StoreDownError('ClickHouse at http://127.0.0.1:8123 is unreachable'), stack: false },
    { name: 'a plain Error at info: no stack', level: 'info', err: new Error('connect ECONNREFUSED 127.0.0.1:8123'), stack: false },
    { name: 'a TypeError (a bug) at info: stack kept', level: 'info', err: new TypeError("Cannot read properties of undefined (reading 'x')"), stack: true },
    { name: 'an expected error at debug: stack kept', level: 'debug', err: new StoreDownError('down'), stack: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = logged(c.level, c.err);
      expect(err.message).toBe(c.err.message);
      expect(err.type).toBe(c.err.name);
      expect('stack' in err).toBe(c.stack);
    });
  }

  it('a thrown non-Error value is logged as it is', () => {
    expect(logged('info', 'plain text')).toBe('plain text');
  });
});
