import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTypePattern } from '../../../lib/matching/event-type.js';

function matches(pattern: string, type: string): boolean {
  const compiled = compileTypePattern(pattern);
  assert.ok(compiled.ok, `"${pattern}" should compile`);
  return compiled.test(type);
}

void describe('compileTypePattern: globs over dot-separated segments', () => {
  const cases: [pattern: string, type: string, expected: boolean][] = [
    // exact names, anchored at both ends
    ['sh.keptn.event.test.triggered', 'sh.keptn.event.test.triggered', true],
    ['sh.keptn.event.test.triggered', 'sh.keptn.event.test.triggered.extra', false],
    ['sh.keptn.event.test.triggered', 'prefix.sh.keptn.event.test.triggered', false],
    ['sh.keptn.event.test.triggered', 'sh.keptn.event.test.finished', false],
    ['event.test', 'sh.keptn.event.test.triggered', false],
    // `.` is a literal dot, not "any character" (JES matched with an unanchored regex)
    ['sh.keptn.event.test.triggered', 'shXkeptnXeventXtestXtriggered', false],
    ['sh.keptn.event.test.triggered', 'sh.keptn.event.testXtriggered', false],
    // `*` is exactly one segment
    ['sh.keptn.event.*.triggered', 'sh.keptn.event.test.triggered', true],
    ['sh.keptn.event.*.triggered', 'sh.keptn.event.deployment.triggered', true],
    ['sh.keptn.event.*.triggered', 'sh.keptn.event.dev.delivery.triggered', false],
    ['sh.keptn.event.*.triggered', 'sh.keptn.event.test.started', false],
    ['sh.keptn.event.*.triggered', 'sh.keptn.event.triggered', false],
    ['sh.keptn.event.*', 'sh.keptn.event.test', true],
    ['sh.keptn.event.*', 'sh.keptn.event.test.triggered', false],
    ['*', 'anything', true],
    ['*', 'two.segments', false],
    // `*` inside a segment
    ['sh.keptn.event.test*.triggered', 'sh.keptn.event.test-load.triggered', true],
    ['sh.keptn.event.test*.triggered', 'sh.keptn.event.test.triggered', true],
    ['sh.keptn.event.test*.triggered', 'sh.keptn.event.test.load.triggered', false],
    ['sh.keptn.event.*-test.triggered', 'sh.keptn.event.load-test.triggered', true],
    ['sh.keptn.event.*-test.triggered', 'sh.keptn.event.test.triggered', false],
    // `**` is any number of segments, including none
    ['sh.keptn.**', 'sh.keptn.event.test.triggered', true],
    ['sh.keptn.**', 'sh.keptn.log.error', true],
    ['sh.keptn.**', 'sh.keptn', true],
    ['sh.keptn.**', 'sh.keptnx.event', false],
    ['sh.keptn.**', 'com.example.sh.keptn.event', false],
    ['**.triggered', 'sh.keptn.event.test.triggered', true],
    ['**.triggered', 'triggered', true],
    ['**.triggered', 'com.example.triggered', true],
    ['**.triggered', 'sh.keptn.event.test.triggered.not', false],
    ['**.triggered', 'sh.keptn.event.test.untriggered', false],
    ['sh.keptn.event.**.triggered', 'sh.keptn.event.dev.delivery.triggered', true],
    ['sh.keptn.event.**.triggered', 'sh.keptn.event.test.triggered', true],
    ['sh.keptn.event.**.triggered', 'sh.keptn.event.triggered', true],
    ['sh.keptn.event.**.triggered', 'sh.keptn.event.test.finished', false],
    ['**', 'sh.keptn.event.test.triggered', true],
    ['**', 'x', true],
    ['sh.**.*.triggered', 'sh.keptn.event.test.triggered', true],
    ['sh.**.*.triggered', 'sh.triggered', false],
    // characters that mean something in a regex are literal
    ['com.example/build#1.done', 'com.example/build#1.done', true],
    ['com.example build.done', 'com.example build.done', true],
  ];
  for (const [pattern, type, expected] of cases) {
    void it(`${pattern} ${expected ? 'matches' : 'does not match'} ${type}`, () => {
      assert.equal(matches(pattern, type), expected);
    });
  }
});

void describe('compileTypePattern: refused patterns', () => {
  const regexMessage = (pattern: string) =>
    `"${pattern}" uses regular-expression syntax; event names are globs: * matches one segment, ** any number of segments`;
  const cases: [pattern: string, message: string][] = [
    [
      'sh.keptn.event.(test|deployment).triggered',
      regexMessage('sh.keptn.event.(test|deployment).triggered'),
    ],
    ['^sh.keptn.event.test.triggered', regexMessage('^sh.keptn.event.test.triggered')],
    ['sh.keptn.event.test.triggered$', regexMessage('sh.keptn.event.test.triggered$')],
    ['sh.keptn.event.[a-z]+.triggered', regexMessage('sh.keptn.event.[a-z]+.triggered')],
    ['sh.keptn.event.test?.triggered', regexMessage('sh.keptn.event.test?.triggered')],
    ['sh.keptn.event.t{2}.triggered', regexMessage('sh.keptn.event.t{2}.triggered')],
    ['sh\\.keptn', regexMessage('sh\\.keptn')],
    ['a|b', regexMessage('a|b')],
    ['sh.keptn.**x', '"sh.keptn.**x": ** must be a whole segment, as in sh.keptn.**'],
    ['sh.keptn.x**', '"sh.keptn.x**": ** must be a whole segment, as in sh.keptn.**'],
    ['sh.keptn.***', '"sh.keptn.***": ** must be a whole segment, as in sh.keptn.**'],
    ['sh..keptn', '"sh..keptn" has an empty segment (two dots in a row, or a dot at an end)'],
    ['.sh.keptn', '".sh.keptn" has an empty segment (two dots in a row, or a dot at an end)'],
    ['sh.keptn.', '"sh.keptn." has an empty segment (two dots in a row, or a dot at an end)'],
    ['', '"" has an empty segment (two dots in a row, or a dot at an end)'],
  ];
  for (const [pattern, message] of cases) {
    void it(JSON.stringify(pattern), () => {
      assert.deepEqual(compileTypePattern(pattern), { ok: false, message });
    });
  }
});
