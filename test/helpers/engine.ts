/**
 * An Engine that records every transition its methods return, in order, as the daemon's state
 * manager would commit them: for tests that read "what was sent" as one list.
 */
import { Engine } from '../../src/engine/engine.js';
import type { EnginePorts, GroupResult, Retirement, TransitionEvent } from '../../src/engine/types.js';
import type { RuleGroup, RuleSet } from '../../src/rules/types.js';

export class RecordingEngine extends Engine {
  constructor(
    ports: EnginePorts,
    readonly events: TransitionEvent[] = [],
  ) {
    super(ports);
  }

  override async evaluateGroup(group: RuleGroup, at: number, signal?: AbortSignal): Promise<GroupResult> {
    const r = await super.evaluateGroup(group, at, signal);
    this.events.push(...r.transitions);
    return r;
  }

  override async accept(alert: string, match: Readonly<Record<string, string>>, reason: string, at: number): Promise<TransitionEvent[]> {
    const events = await super.accept(alert, match, reason, at);
    this.events.push(...events);
    return events;
  }

  override adoptRuleSet(rules: RuleSet, at: number | null = null, graceMs = 0): Retirement {
    const r = super.adoptRuleSet(rules, at, graceMs);
    this.events.push(...r.retired);
    return r;
  }

  override retireDeparted(at: number): Retirement {
    const r = super.retireDeparted(at);
    this.events.push(...r.retired);
    return r;
  }
}
