/**
 * `npm ci` refuses a lock file that lacks any optional platform package of chdb. The registry this
 * project is developed against serves only the linux-x64 engine, so `npm install` may drop the other
 * platforms' entries; this test catches that before CI (and a fresh clone) does.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('package-lock.json', () => {
  it('has an entry for every optional platform engine of chdb', () => {
    const lock = JSON.parse(readFileSync(resolve(__dirname, '../../package-lock.json'), 'utf8')) as {
      packages: Record<string, { optionalDependencies?: Record<string, string>; version?: string }>;
    };
    const chdb = lock.packages['node_modules/chdb'];
    expect(chdb).toBeDefined();
    for (const [name, version] of Object.entries(chdb!.optionalDependencies ?? {})) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
  });
});
