import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJesError, type Issue } from '../../../lib/errors/index.js';
import type { IncomingEvent } from '../../../lib/events/cloudevent.js';
import { isKeptnType, isTriggered, replyEnvelope, replyTypePrefix } from '../../../lib/keptn/envelope.js';
import { keptnEvent } from '../../helpers/factories.js';

/** A Keptn-like event whose `data` is exactly `data`. */
function eventWithData(data: unknown, overrides: Partial<Record<string, unknown>> = {}): IncomingEvent {
  return { ...keptnEvent({ id: 'event-1', ...overrides }), data };
}

function envelopeIssues(event: IncomingEvent): readonly Issue[] {
  try {
    replyEnvelope(event);
  } catch (error) {
    assert.ok(isJesError(error, 'EVENT_INVALID'), String(error));
    assert.equal(error.statusCode, 400);
    return error.issues;
  }
  return assert.fail('expected the event to be refused');
}

const REQUIRED = 'is required: a non-empty string naming where the job config lives';
const unsafe = (value: string) => `"${value}" may hold only letters, digits, _, . and - (no ..)`;

void describe('reply types', () => {
  const cases: [type: string, prefix: string | undefined, triggered: boolean][] = [
    // Keptn task events: only `.triggered` is answered, with <task>.started/.finished
    ['sh.keptn.event.test.triggered', 'sh.keptn.event.test', true],
    ['sh.keptn.event.deployment.triggered', 'sh.keptn.event.deployment', true],
    ['sh.keptn.event.my-task.triggered', 'sh.keptn.event.my-task', true],
    ['sh.keptn.event.test.started', undefined, false],
    ['sh.keptn.event.test.finished', undefined, false],
    ['sh.keptn.event.test.status.changed', undefined, false],
    // other Keptn events get no reply
    ['sh.keptn.event.dev.delivery.triggered', undefined, false],
    ['sh.keptn.event.dev.delivery.finished', undefined, false],
    ['sh.keptn.log.error', undefined, false],
    ['sh.keptn.events.problem', undefined, false],
    ['sh.keptn.event.triggered', undefined, false],
    ['sh.keptn.other.test.triggered', undefined, false],
    // any other CloudEvent: `<type>.started`, a trailing `.triggered` replaced
    ['com.example.build.triggered', 'com.example.build', true],
    ['com.example.build.finished', 'com.example.build.finished', false],
    ['com.example.build', 'com.example.build', false],
    ['dev.knative.sources.ping', 'dev.knative.sources.ping', false],
    ['sh.keptnx.event.test.triggered', 'sh.keptnx.event.test', true],
  ];
  for (const [type, prefix, triggered] of cases) {
    void it(`${type} → ${prefix === undefined ? 'no reply' : `${prefix}.started/.finished`}`, () => {
      assert.equal(replyTypePrefix(type), prefix);
      assert.equal(isTriggered(type), triggered);
    });
  }

  void it('tells Keptn types by their sh.keptn. prefix', () => {
    assert.equal(isKeptnType('sh.keptn.event.test.triggered'), true);
    assert.equal(isKeptnType('sh.keptn.log.error'), true);
    assert.equal(isKeptnType('sh.keptnx.event'), false);
    assert.equal(isKeptnType('com.example.sh.keptn.event'), false);
  });
});

void describe('replyEnvelope', () => {
  void it('takes ids, context, commit, scope and labels from the event', () => {
    assert.deepEqual(replyEnvelope(keptnEvent({ id: 'event-1' })), {
      id: 'event-1',
      type: 'sh.keptn.event.test.triggered',
      source: 'shipyard-controller',
      replyTypePrefix: 'sh.keptn.event.test',
      shkeptncontext: 'ctx-5b1c2d3e',
      gitcommitid: 'commit-1',
      project: 'sockshop',
      stage: 'dev',
      service: 'carts',
      labels: { buildId: '42' },
    });
  });

  void it('has no reply prefix for a Keptn event that gets no reply', () => {
    assert.equal(
      replyEnvelope(keptnEvent({ type: 'sh.keptn.event.dev.delivery.triggered' })).replyTypePrefix,
      undefined,
    );
  });

  void it('drops an empty or non-string context and commit, and has no labels when there are none', () => {
    const envelope = replyEnvelope(
      eventWithData(
        { project: 'p', stage: 's', service: 'v', labels: null },
        { shkeptncontext: '', gitcommitid: 42 },
      ),
    );
    assert.equal(envelope.shkeptncontext, undefined);
    assert.equal(envelope.gitcommitid, undefined);
    assert.deepEqual(envelope.labels, {});
    assert.deepEqual(replyEnvelope(eventWithData({ project: 'p', stage: 's', service: 'v' })).labels, {});
  });

  void it('accepts scope names with letters, digits, _, . and -', () => {
    const envelope = replyEnvelope(
      eventWithData({ project: 'Sock_Shop-2', stage: 'dev.eu-1', service: 'carts.v2' }),
    );
    assert.deepEqual(
      [envelope.project, envelope.stage, envelope.service],
      ['Sock_Shop-2', 'dev.eu-1', 'carts.v2'],
    );
  });

  const missing: [name: string, data: unknown, issues: Issue[]][] = [
    ['no project', { stage: 'dev', service: 'carts' }, [{ path: 'data.project', message: REQUIRED }]],
    ['no stage', { project: 'p', service: 'carts' }, [{ path: 'data.stage', message: REQUIRED }]],
    ['no service', { project: 'p', stage: 'dev' }, [{ path: 'data.service', message: REQUIRED }]],
    [
      'an empty project',
      { project: '', stage: 'dev', service: 'carts' },
      [{ path: 'data.project', message: REQUIRED }],
    ],
    [
      'a numeric stage',
      { project: 'p', stage: 1, service: 'carts' },
      [{ path: 'data.stage', message: REQUIRED }],
    ],
    [
      'no data at all',
      undefined,
      [
        { path: 'data.project', message: REQUIRED },
        { path: 'data.stage', message: REQUIRED },
        { path: 'data.service', message: REQUIRED },
      ],
    ],
    [
      'a list as data',
      ['p', 'dev', 'carts'],
      [
        { path: 'data.project', message: REQUIRED },
        { path: 'data.stage', message: REQUIRED },
        { path: 'data.service', message: REQUIRED },
      ],
    ],
  ];
  for (const [name, data, issues] of missing) {
    void it(`refuses ${name}`, () => {
      assert.deepEqual(envelopeIssues(eventWithData(data)), issues);
    });
  }

  const unsafeNames = [
    '../etc',
    '..',
    'a..b',
    'sock/shop',
    'sock shop',
    '.hidden',
    '-x',
    '_x',
    'carts%2F..',
    'a\\b',
    'ä',
  ];
  for (const value of unsafeNames) {
    void it(`refuses the path-unsafe name ${JSON.stringify(value)}`, () => {
      assert.deepEqual(envelopeIssues(eventWithData({ project: 'p', stage: 'dev', service: value })), [
        { path: 'data.service', message: unsafe(value) },
      ]);
    });
  }

  void it('refuses labels that are not a map of strings, naming each', () => {
    assert.deepEqual(
      envelopeIssues(eventWithData({ project: 'p', stage: 's', service: 'v', labels: ['a'] })),
      [{ path: 'data.labels', message: 'must be a map of string to string' }],
    );
    assert.deepEqual(
      envelopeIssues(eventWithData({ project: 'p', stage: 's', service: 'v', labels: 'a=b' })),
      [{ path: 'data.labels', message: 'must be a map of string to string' }],
    );
    assert.deepEqual(
      envelopeIssues(
        eventWithData({ project: 'p', stage: 's', service: 'v', labels: { ok: 'x', n: 1, o: { a: 'b' } } }),
      ),
      [
        { path: 'data.labels.n', message: 'must be a string' },
        { path: 'data.labels.o', message: 'must be a string' },
      ],
    );
  });

  void it('names the event and every problem in the error message', () => {
    assert.throws(
      () => replyEnvelope(eventWithData({ project: 'a/b', service: 'v' })),
      (error: unknown) =>
        isJesError(error, 'EVENT_INVALID') &&
        error.message ===
          `The event sh.keptn.event.test.triggered event-1 cannot be handled: data.project ${unsafe('a/b')}; data.stage ${REQUIRED}`,
    );
  });
});
