/**
 * Event type patterns. A pattern is a CloudEvent type, or a glob over its dot-separated segments:
 *   `*`  inside a segment matches any characters except `.` (so `sh.keptn.event.*.triggered` matches every task's
 *        `.triggered` event, and not the `sh.keptn.event.<stage>.<sequence>.triggered` sequence events);
 *   `**` as a whole segment matches any number of segments, including none (`sh.keptn.**` matches every Keptn event).
 * The whole type must match (JES used an unanchored Go regex, where `.` matched anything).
 */

const REGEX_ONLY = /[\\^$+?()[\]{}|]/;

export type TypePatternResult =
  { ok: true; test: (type: string) => boolean } | { ok: false; message: string };

export function compileTypePattern(pattern: string): TypePatternResult {
  if (REGEX_ONLY.test(pattern)) {
    return {
      ok: false,
      message: `"${pattern}" uses regular-expression syntax; event names are globs: * matches one segment, ** any number of segments`,
    };
  }
  const segments = pattern.split('.');
  if (segments.some((segment) => segment === '')) {
    return {
      ok: false,
      message: `"${pattern}" has an empty segment (two dots in a row, or a dot at an end)`,
    };
  }
  if (segments.some((segment) => segment.includes('**') && segment !== '**')) {
    return { ok: false, message: `"${pattern}": ** must be a whole segment, as in sh.keptn.**` };
  }
  const source = segments
    .map((segment, index) => {
      // A leading ** carries its own trailing dot, so the segment after it starts without one.
      const dot = index === 0 || (index === 1 && segments[0] === '**') ? '' : '\\.';
      if (segment === '**') {
        if (segments.length === 1) return '.*';
        return index === 0 ? '(?:[^.]+\\.)*' : '(?:\\.[^.]+)*';
      }
      return dot + segment.split('*').map(escapeRegex).join('[^.]*');
    })
    .join('');
  const regex = new RegExp(`^${source}$`);
  return { ok: true, test: (type) => regex.test(type) };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
