import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJobConfig } from '../../../lib/config/parse.js';
import type { EventMatch } from '../../../lib/config/schema.js';
import { eventMatches, matchActions } from '../../../lib/matching/index.js';
import { action, jobConfig, keptnEvent } from '../../helpers/factories.js';

function dataEvent() {
  return keptnEvent({
    data: {
      text: 'locust',
      count: 5,
      countText: '5',
      enabled: true,
      nothing: null,
      zero: 0,
      test: { teststrategy: 'functional', options: { users: 10, spawn: [1, 2] } },
      list: ['a', 1, true, null],
    },
  });
}

function filtered(property: string, match: unknown): EventMatch {
  return { name: 'sh.keptn.event.test.triggered', jsonpath: { property, match } };
}

void describe('eventMatches: the JSONPath filter compares by value for every JSON type', () => {
  const cases: [property: string, match: unknown, expected: boolean][] = [
    ['$.data.text', 'locust', true],
    ['$.data.text', 'Locust', false],
    ['$.data.text', 'locus', false],
    ['$.data.count', 5, true],
    ['$.data.count', '5', false],
    ['$.data.countText', '5', true],
    ['$.data.countText', 5, false],
    ['$.data.count', 6, false],
    ['$.data.zero', 0, true],
    ['$.data.zero', false, false],
    ['$.data.zero', null, false],
    ['$.data.enabled', true, true],
    ['$.data.enabled', 'true', false],
    ['$.data.enabled', false, false],
    ['$.data.nothing', null, true],
    ['$.data.nothing', 'null', false],
    ['$.data.nothing', '', false],
    ['$.data.test.options', { spawn: [1, 2], users: 10 }, true],
    ['$.data.test.options', { users: 10 }, false],
    ['$.data.test.options', { users: '10', spawn: [1, 2] }, false],
    ['$.data.list', ['a', 1, true, null], true],
    ['$.data.list', ['a', 1, true], false],
    ['$.data.list', [1, 'a', true, null], false],
    ['$.data.list[1]', 1, true],
    ['$.data.test.teststrategy', 'functional', true],
    ['$.type', 'sh.keptn.event.test.triggered', true],
    ['$.shkeptncontext', 'ctx-5b1c2d3e', true],
    // a path that selects nothing never matches, whatever the match value
    ['$.data.missing', null, false],
    ['$.data.missing', '', false],
    ['$.data.missing', false, false],
    ['$.data.test.missing.deeper', 'x', false],
  ];
  for (const [property, match, expected] of cases) {
    void it(`${property} ${expected ? '==' : '!='} ${JSON.stringify(match)}`, () => {
      assert.equal(eventMatches(filtered(property, match), dataEvent()), expected);
    });
  }

  void it('checks the type before the filter', () => {
    const entry: EventMatch = {
      name: 'sh.keptn.event.deployment.triggered',
      jsonpath: { property: '$.data.text', match: 'locust' },
    };
    assert.equal(eventMatches(entry, dataEvent()), false);
  });

  void it('refuses an invalid pattern rather than matching it', () => {
    assert.equal(eventMatches({ name: 'sh.keptn.event.(test).triggered' }, dataEvent()), false);
  });
});

void describe('matchActions', () => {
  void it('returns nothing when no action matches', () => {
    const config = jobConfig({
      actions: [action({ events: [{ name: 'sh.keptn.event.deployment.triggered' }] })],
    });
    assert.deepEqual(matchActions(config, keptnEvent()), []);
  });

  void it('returns every matching action, in config order, with its index', () => {
    const first = action({ name: 'first', events: [{ name: 'sh.keptn.event.*.triggered' }] });
    const other = action({ name: 'other', events: [{ name: 'sh.keptn.event.deployment.triggered' }] });
    const second = action({ name: 'second', events: [{ name: 'sh.keptn.**' }] });
    const filteredOut = action({ name: 'filtered', events: [filtered('$.data.text', 'gatling')] });
    const third = action({ name: 'third', events: [filtered('$.data.text', 'locust')] });
    const config = jobConfig({ actions: [first, other, second, filteredOut, third] });
    assert.deepEqual(matchActions(config, dataEvent()), [
      { action: first, actionIndex: 0 },
      { action: second, actionIndex: 2 },
      { action: third, actionIndex: 4 },
    ]);
  });

  void it('matches an action when any one of its events matches', () => {
    const multi = action({
      events: [
        { name: 'com.example.build.finished' },
        filtered('$.data.count', '5'),
        filtered('$.data.count', 5),
      ],
    });
    assert.deepEqual(matchActions(jobConfig({ actions: [multi] }), dataEvent()), [
      { action: multi, actionIndex: 0 },
    ]);
  });

  void it('matches non-Keptn event types', () => {
    const config = jobConfig({ actions: [action({ events: [{ name: 'com.example.*.finished' }] })] });
    assert.equal(matchActions(config, keptnEvent({ type: 'com.example.build.finished' })).length, 1);
    assert.equal(matchActions(config, keptnEvent({ type: 'com.example.build.started' })).length, 0);
  });

  void it('works on a config parsed from YAML (match values keep their YAML types)', () => {
    const { config } = parseJobConfig(
      `apiVersion: v2
actions:
  - name: number
    events: [{ name: sh.keptn.event.test.triggered, jsonpath: { property: $.data.count, match: 5 } }]
    tasks: [{ name: t, image: busybox }]
  - name: quoted
    events: [{ name: sh.keptn.event.test.triggered, jsonpath: { property: $.data.count, match: "5" } }]
    tasks: [{ name: t, image: busybox }]
  - name: nulls
    events: [{ name: sh.keptn.event.test.triggered, jsonpath: { property: $.data.nothing, match: ~ } }]
    tasks: [{ name: t, image: busybox }]
  - name: object
    events: [{ name: sh.keptn.event.test.triggered, jsonpath: { property: $.data.test.options, match: { users: 10, spawn: [1, 2] } } }]
    tasks: [{ name: t, image: busybox }]
`,
      'o',
    );
    assert.deepEqual(
      matchActions(config, dataEvent()).map((match) => match.action.name),
      ['number', 'nulls', 'object'],
    );
  });
});

void describe('no script execution through matching', () => {
  void it('parseJobConfig refuses a filter or script expression as jsonpath.property', () => {
    for (const property of [
      '$.data[?(@.text == "locust")]',
      '$[(process.exit(1))]',
      '$..[?(globalThis.x = 1)]',
    ]) {
      const text = `apiVersion: v2
actions:
  - name: a
    events: [{ name: sh.keptn.event.test.triggered, jsonpath: { property: '${property}', match: x } }]
    tasks: [{ name: t, image: busybox }]
`;
      assert.throws(
        () => parseJobConfig(text, 'o'),
        (error: unknown) =>
          error instanceof Error &&
          'issues' in error &&
          JSON.stringify(error.issues) ===
            JSON.stringify([
              {
                path: 'actions[0].events[0].jsonpath.property',
                message: `"${property}" uses a filter or script expression, which is not supported (no code from a config is run) (line 4)`,
              },
            ]),
        property,
      );
    }
  });

  void it('a script expression that reached matching anyway is not run', () => {
    const flags = globalThis as Record<string, unknown>;
    Reflect.deleteProperty(flags, '__jesMatchPwned');
    const config = jobConfig({
      actions: [action({ events: [filtered('$[?(globalThis.__jesMatchPwned = true)]', true)] })],
    });
    let matched: unknown;
    try {
      matched = matchActions(config, dataEvent());
    } catch {
      matched = [];
    }
    assert.deepEqual(matched, []);
    assert.equal(flags.__jesMatchPwned, undefined);
  });
});
