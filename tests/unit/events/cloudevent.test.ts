import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJesError, type Issue } from '../../../lib/errors/index.js';
import { parseHttpEvent, type HttpMessage } from '../../../lib/events/cloudevent.js';

const STRUCTURED = { 'content-type': 'application/cloudevents+json' };

function structuredEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: 'event-1',
    source: 'shipyard-controller',
    type: 'sh.keptn.event.test.triggered',
    time: '2026-12-03T10:00:00.000Z',
    datacontenttype: 'application/json',
    shkeptncontext: 'ctx-1',
    gitcommitid: 'commit-1',
    data: { project: 'sockshop', stage: 'dev', service: 'carts', count: 5 },
    ...overrides,
  };
}

function binaryHeaders(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': 'event-2',
    'ce-source': 'com.example/ci',
    'ce-type': 'com.example.build.finished',
    'ce-time': '2026-12-03T11:00:00.000Z',
    'ce-shkeptncontext': 'ctx-2',
    ...overrides,
  };
}

/** The EVENT_INVALID error parseHttpEvent throws for `message`. */
function refusal(message: HttpMessage): { message: string; issues: readonly Issue[] } {
  try {
    parseHttpEvent(message);
  } catch (error) {
    assert.ok(isJesError(error, 'EVENT_INVALID'), String(error));
    assert.equal(error.code, 'JES_ERR_EVENT_INVALID');
    assert.equal(error.statusCode, 400);
    return { message: error.message, issues: error.issues };
  }
  return assert.fail('expected the request to be refused');
}

const NOT_A_CLOUDEVENT_HINT =
  'send a structured event (Content-Type: application/cloudevents+json) or binary mode with ce-specversion, ce-id, ce-source and ce-type headers';

void describe('parseHttpEvent: the modes it reads', () => {
  void it('reads a structured event with its attributes, extensions and data', () => {
    const event = parseHttpEvent({ headers: STRUCTURED, body: JSON.stringify(structuredEvent()) });
    assert.deepEqual(event, structuredEvent());
    assert.equal(Object.getPrototypeOf(event), Object.prototype, 'a plain JSON object, not an SDK instance');
  });

  void it('reads a structured event whose content type has parameters', () => {
    const event = parseHttpEvent({
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      body: JSON.stringify(structuredEvent()),
    });
    assert.equal(event.id, 'event-1');
  });

  void it('reads a binary event: attributes from ce- headers, the body as data', () => {
    const event = parseHttpEvent({ headers: binaryHeaders(), body: '{"project":"sockshop","ok":true}' });
    assert.deepEqual(event, {
      specversion: '1.0',
      id: 'event-2',
      source: 'com.example/ci',
      type: 'com.example.build.finished',
      time: '2026-12-03T11:00:00.000Z',
      datacontenttype: 'application/json',
      shkeptncontext: 'ctx-2',
      data: { project: 'sockshop', ok: true },
    });
  });

  void it('reads a binary event with a text body', () => {
    const event = parseHttpEvent({ headers: binaryHeaders({ 'content-type': 'text/plain' }), body: 'hello' });
    assert.equal(event.data, 'hello');
    assert.equal(event.datacontenttype, 'text/plain');
  });

  void it('reads a plain application/json body holding a structured event as structured', () => {
    const body = JSON.stringify(structuredEvent());
    assert.deepEqual(
      parseHttpEvent({ headers: { 'content-type': 'application/json' }, body }),
      structuredEvent(),
    );
    assert.deepEqual(
      parseHttpEvent({ headers: { 'content-type': 'application/json; charset=utf-8' }, body }),
      structuredEvent(),
    );
  });

  void it('reads a JSON body as data, not as an event, in binary mode', () => {
    const body = JSON.stringify(structuredEvent({ id: 'inner' }));
    const event = parseHttpEvent({ headers: binaryHeaders(), body });
    assert.equal(event.id, 'event-2');
    assert.deepEqual(event.data, structuredEvent({ id: 'inner' }));
  });

  void it('takes the first value of a repeated header', () => {
    const event = parseHttpEvent({
      headers: { ...binaryHeaders(), 'ce-id': ['event-3', 'event-4'] },
      body: '{}',
    });
    assert.equal(event.id, 'event-3');
  });

  void it('keeps the id and time it was given, so a redelivery parses the same', () => {
    const body = JSON.stringify(structuredEvent());
    assert.deepEqual(
      parseHttpEvent({ headers: STRUCTURED, body }),
      parseHttpEvent({ headers: STRUCTURED, body }),
    );
  });
});

void describe('parseHttpEvent: refusals', () => {
  void it('refuses a batch', () => {
    assert.deepEqual(
      refusal({
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify([structuredEvent()]),
      }),
      { message: 'Batched CloudEvents are not supported: send one event per request', issues: [] },
    );
  });

  for (const attribute of ['specversion', 'id', 'source', 'type']) {
    void it(`refuses a structured event without ${attribute}, naming it`, () => {
      const event = structuredEvent();
      Reflect.deleteProperty(event, attribute);
      assert.deepEqual(refusal({ headers: STRUCTURED, body: JSON.stringify(event) }), {
        message: `Not a valid CloudEvent: ${attribute}: is required (a non-empty string)`,
        issues: [{ path: attribute, message: 'is required (a non-empty string)' }],
      });
    });

    void it(`refuses a binary event without ce-${attribute}, naming it`, () => {
      assert.deepEqual(refusal({ headers: binaryHeaders({ [`ce-${attribute}`]: undefined }), body: '{}' }), {
        message: `Not a valid CloudEvent: ${attribute}: is required (the ce-${attribute} header)`,
        issues: [{ path: attribute, message: `is required (the ce-${attribute} header)` }],
      });
    });
  }

  void it('refuses an empty or non-string id', () => {
    assert.deepEqual(
      refusal({ headers: STRUCTURED, body: JSON.stringify(structuredEvent({ id: '' })) }).issues,
      [{ path: 'id', message: 'must be a non-empty string' }],
    );
    assert.deepEqual(
      refusal({ headers: STRUCTURED, body: JSON.stringify(structuredEvent({ id: 42 })) }).issues,
      [{ path: 'id', message: 'must be a non-empty string' }],
    );
    assert.deepEqual(refusal({ headers: binaryHeaders({ 'ce-id': '' }), body: '{}' }).issues, [
      { path: 'id', message: 'is required (the ce-id header)' },
    ]);
  });

  void it('names every missing attribute at once', () => {
    assert.deepEqual(
      refusal({ headers: STRUCTURED, body: JSON.stringify({ data: {} }) }).issues.map((issue) => issue.path),
      ['specversion', 'id', 'source', 'type'],
    );
  });

  void it('refuses a source that is not a URI reference, naming it', () => {
    const { issues } = refusal({
      headers: STRUCTURED,
      body: JSON.stringify(structuredEvent({ source: 'a b' })),
    });
    assert.deepEqual(issues, [{ path: 'source', message: 'must match format "uri-reference"' }]);
  });

  void it('refuses malformed JSON in a structured event', () => {
    const { message, issues } = refusal({ headers: STRUCTURED, body: '{"specversion": "1.0", "id": ' });
    assert.match(message, /^Not a CloudEvent \(.+\): /);
    assert.ok(message.endsWith(NOT_A_CLOUDEVENT_HINT), message);
    assert.deepEqual(issues, []);
  });

  const notEvents: [name: string, message: HttpMessage][] = [
    [
      'malformed JSON as application/json',
      { headers: { 'content-type': 'application/json' }, body: '{"specversion": ' },
    ],
    [
      'plain JSON that is not an event',
      { headers: { 'content-type': 'application/json' }, body: '{"hello":"world"}' },
    ],
    ['no content type and no ce- headers', { headers: {}, body: JSON.stringify(structuredEvent()) }],
    ['an empty body', { headers: { 'content-type': 'application/json' }, body: '' }],
  ];
  for (const [name, message] of notEvents) {
    void it(`refuses ${name}`, () => {
      const refused = refusal(message);
      assert.ok(refused.message.startsWith('Not a'), refused.message);
    });
  }

  void it('refuses a structured body that is empty', () => {
    assert.ok(refusal({ headers: STRUCTURED, body: '' }).message.startsWith('Not a'));
  });
});

void describe('parseHttpEvent: header names', () => {
  void it('finds ce- headers whatever their case', () => {
    const headers = {
      'content-type': 'application/json',
      'Ce-Specversion': '1.0',
      'CE-ID': 'e',
      'ce-Source': 's',
      'Ce-Type': 't',
    };
    assert.deepEqual(refusal({ headers: { ...headers, 'CE-ID': undefined }, body: '{}' }).issues, [
      { path: 'id', message: 'is required (the ce-id header)' },
    ]);
  });
});
