/**
 * At most one run of an async job at a time, and at most one more queued behind it: a caller that
 * asks while a run is in flight gets the next run, which starts when the current one ends and then
 * sees everything that changed meanwhile. For the state file: every group evaluation asks for a save,
 * and with 100 groups a save of the whole state (60k series: seconds of JSON) per evaluation queued
 * up saves the next one would overwrite anyway, and kept the event loop busy with them.
 */
export function coalesce(job: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const start = (): Promise<void> => {
    const run = job().finally(() => {
      if (running === run) running = null;
    });
    running = run;
    return run;
  };
  return () => {
    if (running === null) return start();
    // One queued run serves every caller that asked during the current one.
    next ??= running.catch(() => undefined).then(() => {
      next = null;
      return start();
    });
    return next;
  };
}
