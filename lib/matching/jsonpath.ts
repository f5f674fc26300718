import { JSONPath } from 'jsonpath-plus';

/**
 * JSONPath over plain JSON, evaluated safely: filter and script expressions (`?(…)`, `(…)`) are refused when the
 * config is validated and evaluation runs with `eval: false`, so no expression from a config is ever executed.
 */

export type JsonPathResult = { found: true; value: unknown } | { found: false };

/** Why a path cannot be used, or undefined when it is fine. */
export function checkJsonPath(path: string): string | undefined {
  if (!path.startsWith('$')) return `"${path}" must start with $ (for example $.data.project)`;
  let segments: string[];
  try {
    segments = JSONPath.toPathArray(path);
  } catch (error) {
    return `"${path}" is not a valid JSONPath: ${error instanceof Error ? error.message : String(error)}`;
  }
  // Also `[ ?(…) ]` (spaces) and RFC 9535 `[?@.x]`: jsonpath-plus would read them as key names that never match.
  const isExpression = (segment: string) => /^\s*[?(]/.test(segment);
  if (segments.some(isExpression)) {
    return `"${path}" uses a filter or script expression, which is not supported (no code from a config is run)`;
  }
  return undefined;
}

/**
 * The value at `path`. A path that selects several values (wildcards, `..`) yields them as a list; no value is
 * `found: false`.
 */
export function evaluateJsonPath(path: string, json: unknown): JsonPathResult {
  const results = JSONPath<unknown[]>({ path, json: json as object, eval: false, wrap: true });
  if (results.length === 0) return { found: false };
  // Judged on the parsed segments, so a quoted key such as ['a:b'] or ['a..b'] is still one value.
  const selectsMany = JSONPath.toPathArray(path).some(
    (segment) =>
      segment === '*' || segment === '..' || segment.includes(',') || /^-?\d*:-?\d*(:-?\d*)?$/.test(segment),
  );
  const isSingle = results.length === 1 && !selectsMany;
  return { found: true, value: isSingle ? results[0] : results };
}

/** Equality by value for any JSON values (objects compare key by key, whatever the key order). */
export function jsonEquals(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => jsonEquals(item, right[index]));
  }
  const leftKeys = Object.keys(left);
  const rightRecord = right as Record<string, unknown>;
  return (
    leftKeys.length === Object.keys(right).length &&
    leftKeys.every(
      (key) =>
        Object.hasOwn(rightRecord, key) &&
        jsonEquals((left as Record<string, unknown>)[key], rightRecord[key]),
    )
  );
}
