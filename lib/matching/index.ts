import type { Action, EventMatch, JobConfig } from '../config/schema.js';
import type { IncomingEvent } from '../events/cloudevent.js';
import { compileTypePattern } from './event-type.js';
import { evaluateJsonPath, jsonEquals } from './jsonpath.js';

export interface MatchedAction {
  readonly action: Action;
  readonly actionIndex: number;
}

/**
 * Every action with an event entry that matches: the type pattern, and the JSONPath filter (value equality for any
 * JSON type) when there is one. All matching actions run, in config order (JES ran only the first: JES #167).
 */
export function matchActions(config: JobConfig, event: IncomingEvent): MatchedAction[] {
  return config.actions.flatMap((action, actionIndex) =>
    action.events.some((entry) => eventMatches(entry, event)) ? [{ action, actionIndex }] : [],
  );
}

export function eventMatches(entry: EventMatch, event: IncomingEvent): boolean {
  const pattern = compileTypePattern(entry.name);
  if (!pattern.ok || !pattern.test(event.type)) return false;
  if (entry.jsonpath === undefined) return true;
  const result = evaluateJsonPath(entry.jsonpath.property, event);
  return result.found && jsonEquals(result.value, entry.jsonpath.match);
}
