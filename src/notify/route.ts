/**
 * The routing tree, Alertmanager's semantics: the top route takes every alert; among a route's
 * children the first whose matchers all hold takes the alert, and the search goes on to later
 * siblings only when that child says `continue: true`; a route none of whose children matched
 * delivers to its own receivers. Children inherit receivers, group_wait, repeat_interval and
 * send_resolved from their parent. Pure: labels in, receivers out.
 */
import { matchesAll, type Matcher } from './matchers.js';

export interface RouteNode {
  /** Position in the tree ("root", "root.0", "root.0.1"), for logs and tests. */
  readonly id: string;
  readonly matchers: readonly Matcher[];
  /** Empty: alerts taken by this route go nowhere (a deliberate "drop"). */
  readonly receivers: readonly string[];
  readonly groupWaitMs: number;
  readonly repeatIntervalMs: number;
  readonly sendResolved: boolean;
  readonly continue: boolean;
  readonly routes: readonly RouteNode[];
}

export interface RouteTarget {
  readonly receiver: string;
  readonly routeId: string;
  readonly groupWaitMs: number;
  readonly repeatIntervalMs: number;
  readonly sendResolved: boolean;
}

export const ROUTE_DEFAULTS = { groupWaitMs: 30_000, repeatIntervalMs: 4 * 3600_000, sendResolved: true } as const;

/** A root that sends nothing anywhere: the daemon without receivers. */
export const EMPTY_ROUTE: RouteNode = {
  id: 'root',
  matchers: [],
  receivers: [],
  ...ROUTE_DEFAULTS,
  continue: false,
  routes: [],
};

function matchNode(node: RouteNode, labels: Readonly<Record<string, string>>): RouteNode[] {
  if (!matchesAll(node.matchers, labels)) return [];
  const found: RouteNode[] = [];
  for (const child of node.routes) {
    const m = matchNode(child, labels);
    if (m.length === 0) continue;
    found.push(...m);
    if (!child.continue) break;
  }
  return found.length > 0 ? found : [node];
}

/**
 * Where an alert goes. A receiver reached through several routes (`continue: true`) is listed once,
 * with the settings of the first route that reached it, so it gets one message, not two.
 */
export function routeAlert(root: RouteNode, labels: Readonly<Record<string, string>>): RouteTarget[] {
  // The root takes everything, whatever matchers it was given.
  const nodes = matchNode({ ...root, matchers: [] }, labels);
  const seen = new Set<string>();
  const out: RouteTarget[] = [];
  for (const n of nodes) {
    for (const receiver of n.receivers) {
      if (seen.has(receiver)) continue;
      seen.add(receiver);
      out.push({ receiver, routeId: n.id, groupWaitMs: n.groupWaitMs, repeatIntervalMs: n.repeatIntervalMs, sendResolved: n.sendResolved });
    }
  }
  return out;
}
