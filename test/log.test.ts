/** Structured logs: expected errors are one message without a stack; bugs (and debug level) keep it. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, defaultLogFormat, prettyLine } from '../src/log.js';

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

describe('--log-format pretty', () => {
  it('one readable line per event: UTC time, level, message, then the fields', () => {
    const line = JSON.stringify({ level: 'warn', time: '2026-11-22T03:00:00.012Z', app: 'agentdrift', rule: 'ToolCallsPerRunUp', labels: { tool: 'enrich_company' }, from: 'pending', to: 'firing', reason: 'condition true for 30m', msg: 'ToolCallsPerRunUp firing' });
    expect(prettyLine(line)).toBe('03:00:00.012 WARN  ToolCallsPerRunUp firing rule=ToolCallsPerRunUp labels={"tool":"enrich_company"} from=pending to=firing reason="condition true for 30m"\n');
  });

  it('a line that is not JSON passes as it is', () => {
    expect(prettyLine('plain text')).toBe('plain text\n');
  });

  it('the logger writes pretty lines with format pretty; JSON off a terminal by default', () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    createLogger({ level: 'info', destination, format: 'pretty' }).info({ url: 'http://127.0.0.1:9464' }, 'serving');
    expect(chunks.join('')).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} INFO  serving url=http:\/\/127\.0\.0\.1:9464\n$/);
    expect(defaultLogFormat({ isTTY: true })).toBe('pretty');
    expect(defaultLogFormat({ isTTY: false })).toBe('json');
    expect(defaultLogFormat({})).toBe('json');
  });
});
