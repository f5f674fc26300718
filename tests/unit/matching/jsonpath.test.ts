import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkJsonPath, evaluateJsonPath, jsonEquals } from '../../../lib/matching/jsonpath.js';

function eventJson() {
  return {
    type: 'sh.keptn.event.test.triggered',
    data: {
      project: 'sockshop',
      count: 5,
      ratio: 0.5,
      countText: '5',
      enabled: true,
      disabled: false,
      nothing: null,
      zero: 0,
      empty: '',
      test: { teststrategy: 'functional' },
      urls: ['http://a', 'http://b'],
      'a:b': 'colon',
      'a..b': 'dots',
      'app.kubernetes.io/name': 'carts',
    },
  };
}

void describe('checkJsonPath', () => {
  const accepted = [
    '$',
    '$.data.project',
    '$.data.urls[0]',
    '$.data.urls[-1:]',
    '$.data.*',
    '$..teststrategy',
    "$.data['app.kubernetes.io/name']",
    '$["data"]["project"]',
  ];
  for (const path of accepted) {
    void it(`accepts ${path}`, () => {
      assert.equal(checkJsonPath(path), undefined);
    });
  }

  const expression = (path: string) =>
    `"${path}" uses a filter or script expression, which is not supported (no code from a config is run)`;
  const refused: [path: string, message: string][] = [
    ['data.project', '"data.project" must start with $ (for example $.data.project)'],
    ['@.data', '"@.data" must start with $ (for example $.data.project)'],
    ['', '"" must start with $ (for example $.data.project)'],
    [' $.data', '" $.data" must start with $ (for example $.data.project)'],
    ['$.data[?(@.count > 1)]', expression('$.data[?(@.count > 1)]')],
    ['$..[?(@.x)]', expression('$..[?(@.x)]')],
    ['$.data.urls[(@.length-1)]', expression('$.data.urls[(@.length-1)]')],
    ['$[(process.exit(1))]', expression('$[(process.exit(1))]')],
    ['$.data[ ?(@.x) ]', expression('$.data[ ?(@.x) ]')],
    ['$.data[?@.x == 1]', expression('$.data[?@.x == 1]')],
  ];
  for (const [path, message] of refused) {
    void it(`refuses ${JSON.stringify(path)}`, () => {
      assert.equal(checkJsonPath(path), message);
    });
  }
});

void describe('evaluateJsonPath', () => {
  const cases: [path: string, expected: ReturnType<typeof evaluateJsonPath>][] = [
    ['$.data.project', { found: true, value: 'sockshop' }],
    ['$.data.count', { found: true, value: 5 }],
    ['$.data.ratio', { found: true, value: 0.5 }],
    ['$.data.countText', { found: true, value: '5' }],
    ['$.data.enabled', { found: true, value: true }],
    ['$.data.disabled', { found: true, value: false }],
    ['$.data.nothing', { found: true, value: null }],
    ['$.data.zero', { found: true, value: 0 }],
    ['$.data.empty', { found: true, value: '' }],
    ['$.data.test', { found: true, value: { teststrategy: 'functional' } }],
    ['$.data.urls', { found: true, value: ['http://a', 'http://b'] }],
    ['$.data.urls[1]', { found: true, value: 'http://b' }],
    ["$.data['app.kubernetes.io/name']", { found: true, value: 'carts' }],
    ["$.data['a:b']", { found: true, value: 'colon' }],
    ["$.data['a..b']", { found: true, value: 'dots' }],
    ['$.data.missing', { found: false }],
    ['$.data.test.missing.deeper', { found: false }],
    ['$.data.urls[5]', { found: false }],
    ['$.nodata.project', { found: false }],
    // several values (or a selector that can select several) come as a list
    ['$.data.test.*', { found: true, value: ['functional'] }],
    ['$..teststrategy', { found: true, value: ['functional'] }],
    ['$.data.urls[0:1]', { found: true, value: ['http://a'] }],
    ['$.data.urls[*]', { found: true, value: ['http://a', 'http://b'] }],
    ['$.data[project,count]', { found: true, value: ['sockshop', 5] }],
  ];
  for (const [path, expected] of cases) {
    void it(path, () => {
      assert.deepEqual(evaluateJsonPath(path, eventJson()), expected);
    });
  }

  void it('$ is the whole document', () => {
    assert.deepEqual(evaluateJsonPath('$', eventJson()), { found: true, value: eventJson() });
  });
});

const show = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value));

void describe('jsonEquals', () => {
  const cases: [left: unknown, right: unknown, expected: boolean][] = [
    ['a', 'a', true],
    ['a', 'b', false],
    [5, 5, true],
    ['5', 5, false],
    [5, '5', false],
    [0, false, false],
    ['', false, false],
    [null, null, true],
    [null, undefined, false],
    [null, {}, false],
    ['null', null, false],
    [true, true, true],
    [true, 'true', false],
    [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1, b: 2 }, { a: 1 }, false],
    [{ a: undefined }, { b: undefined }, false],
    [{ a: { b: '1' } }, { a: { b: 1 } }, false],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[1], [1, 1], false],
    [[], {}, false],
    [{}, [], false],
    [{ 0: 'a' }, ['a'], false],
  ];
  for (const [left, right, expected] of cases) {
    void it(`${show(left)} vs ${show(right)}`, () => {
      assert.equal(jsonEquals(left, right), expected);
    });
  }
});

void describe('evaluateJsonPath never runs code from a path', () => {
  const FLAG = '__jesJsonPathPwned';
  const flags = globalThis as Record<string, unknown>;

  const attacks = [
    `$[?(globalThis.${FLAG} = true)]`,
    `$..[?(globalThis.${FLAG} = true)]`,
    `$.data[?(@.project && (globalThis.${FLAG} = true))]`,
    `$[(globalThis.${FLAG} = true)]`,
    `$.data[(globalThis.${FLAG} = 'x')]`,
    `$[ ?(globalThis.${FLAG} = true) ]`,
    `$[?globalThis.${FLAG} = true]`,
  ];
  for (const path of attacks) {
    void it(`${path} throws or selects nothing, and the flag stays unset`, () => {
      Reflect.deleteProperty(flags, FLAG);
      let result: ReturnType<typeof evaluateJsonPath> | undefined;
      try {
        result = evaluateJsonPath(path, eventJson());
      } catch {
        result = undefined;
      }
      assert.ok(result === undefined || !result.found, `selected ${JSON.stringify(result)}`);
      assert.equal(flags[FLAG], undefined);
      assert.notEqual(checkJsonPath(path), undefined, 'the config check refuses it as well');
    });
  }

  void it('a path calling process.exit does not call it', (t) => {
    const exit = t.mock.method(process, 'exit', () => undefined);
    for (const path of ['$[(process.exit(3))]', '$[?(process.exit(3))]', '$..[?(@ && process.exit(3))]']) {
      assert.throws(() => evaluateJsonPath(path, eventJson()), /prevented/);
    }
    assert.equal(exit.mock.callCount(), 0);
  });
});
