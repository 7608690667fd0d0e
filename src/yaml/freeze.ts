/** Loaded rules and config are shared by the daemon's loops; freezing makes accidental mutation throw. */
export function deepFreeze<T>(value: T, seen: WeakSet<object> = new WeakSet()): T {
  if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v, seen);
  }
  return value;
}
