/** vitest globalSetup: every temp directory of a test run (embedded stores, daemons' state, rule files)
 * lives under one root that is removed when the run ends. Test files and the daemons they spawn call
 * os.tmpdir(), which reads TMPDIR; the workers are forked after this runs, so they inherit it. A store is
 * a few hundred MB: without this a run would leave gigabytes behind in /tmp on every machine. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'agentdrift-test-'));
  // As /tmp is: tests that run a daemon as another user (root ignores permissions, so they run it as
  // nobody) must reach their own directories under it.
  chmodSync(root, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
