import type { TSchema } from '@sinclair/typebox';
import { Kind } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { Issue } from '../errors/index.js';

/**
 * Turns TypeBox validation errors into precise issues: the exact path in dotted form (`actions[0].tasks[1].image`)
 * and a message that says what is expected there. Shared by the job config and the settings validation.
 */
export function collectIssues(schema: TSchema, value: unknown): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const path = toDottedPath(error.path);
    // A union reports its own failure and every member's: the first line per path is the precise one.
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push({ path: path === '' ? '(root)' : path, message: describe(schema, error) });
  }
  return issues;
}

/** `/actions/0/tasks/1/image` → `actions[0].tasks[1].image` */
export function toDottedPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function describe(root: TSchema, error: ValueError): string {
  const expected = typeof error.schema.description === 'string' ? ` (${error.schema.description})` : '';
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const parent = schemaAt(root, error.path.split('/').slice(1, -1));
      const allowed = parent?.properties ? Object.keys(parent.properties as object).join(', ') : '';
      return `unknown key; allowed keys here: ${allowed}`;
    }
    case ValueErrorType.ObjectRequiredProperty:
      return `is required${expected}`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${String(error.schema.minItems)} item(s)`;
    case ValueErrorType.Union:
      return `${unionExpectation(error.schema)}${expected}, got ${describeValue(error.value)}`;
    default:
      return `${lowerFirst(error.message)}${expected}, got ${describeValue(error.value)}`;
  }
}

function unionExpectation(schema: TSchema): string {
  const members = (schema.anyOf ?? []) as TSchema[];
  const literals = members
    .filter((member) => member.const !== undefined)
    .map((member) => String(member.const));
  if (literals.length === members.length && literals.length > 0)
    return `expected one of: ${literals.join(', ')}`;
  const kinds = members.map((member) =>
    member.const !== undefined ? JSON.stringify(member.const) : member[Kind],
  );
  return `expected ${kinds.map((kind) => kind.toLowerCase()).join(' or ')}`;
}

function schemaAt(root: TSchema, segments: readonly string[]): TSchema | undefined {
  let current: TSchema | undefined = root;
  for (const segment of segments) {
    if (current === undefined) return undefined;
    if (current.type === 'array') current = current.items as TSchema | undefined;
    else if (current.properties && segment in current.properties) {
      current = (current.properties as Record<string, TSchema>)[segment];
    } else if (current.patternProperties)
      current = Object.values(current.patternProperties as object)[0] as TSchema;
    else return undefined;
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
