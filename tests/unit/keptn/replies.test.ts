import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deterministicId, EVENT_SOURCE, finishedEvent, startedEvent } from '../../../lib/keptn/replies.js';
import { envelope } from '../../helpers/factories.js';

const TIME = new Date('2026-12-03T10:05:00.123Z');
const UUID_V5_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/;

void describe('deterministicId', () => {
  void it('is UUID-shaped and the same for the same name', () => {
    const id = deterministicId('run-1/started');
    assert.match(id, UUID_V5_SHAPE);
    assert.equal(deterministicId('run-1/started'), id);
  });

  void it('differs for different names', () => {
    const ids = ['run-1/started', 'run-1/finished', 'run-2/started', ''].map(deterministicId);
    assert.equal(new Set(ids).size, 4);
    for (const id of ids) assert.match(id, UUID_V5_SHAPE);
  });
});

void describe('startedEvent', () => {
  void it('answers a Keptn task event with <task>.started', () => {
    assert.deepEqual(startedEvent(envelope(), 'run-1', TIME), {
      specversion: '1.0',
      id: deterministicId('run-1/started'),
      source: 'job-executor',
      type: 'sh.keptn.event.test.started',
      time: '2026-12-03T10:05:00.123Z',
      datacontenttype: 'application/json',
      shkeptncontext: 'ctx-5b1c2d3e',
      triggeredid: 'event-1',
      gitcommitid: 'commit-1',
      shkeptnspecversion: '0.2.4',
      data: {
        project: 'sockshop',
        stage: 'dev',
        service: 'carts',
        labels: { buildId: '42' },
        status: 'succeeded',
      },
    });
    assert.equal(EVENT_SOURCE, 'job-executor');
  });

  void it('answers another CloudEvent with <prefix>.started, leaving out what it lacks', () => {
    const event = startedEvent(
      envelope({
        id: 'build-7',
        type: 'com.example.build.triggered',
        replyTypePrefix: 'com.example.build',
        shkeptncontext: undefined,
        gitcommitid: undefined,
        labels: {},
      }),
      'run-9',
      TIME,
    );
    assert.equal(event.type, 'com.example.build.started');
    assert.equal(event.triggeredid, 'build-7');
    assert.equal('shkeptncontext' in event, false);
    assert.equal('gitcommitid' in event, false);
    assert.deepEqual(event.data, {
      project: 'sockshop',
      stage: 'dev',
      service: 'carts',
      status: 'succeeded',
    });
  });

  void it('has the same id however often it is built for a run, and another id for another run', () => {
    assert.equal(
      startedEvent(envelope(), 'run-1', TIME).id,
      startedEvent(envelope(), 'run-1', new Date()).id,
    );
    assert.notEqual(startedEvent(envelope(), 'run-1', TIME).id, startedEvent(envelope(), 'run-2', TIME).id);
  });
});

void describe('finishedEvent', () => {
  void it('answers with <task>.finished carrying status, result, message and the outcome data', () => {
    const event = finishedEvent(envelope(), 'run-1', TIME, {
      status: 'errored',
      result: 'fail',
      message: "Task 'run' failed: exit code 1",
      data: { test: { start: '2026-12-03T10:00:00Z', end: '2026-12-03T10:05:00Z' } },
    });
    assert.deepEqual(event, {
      specversion: '1.0',
      id: deterministicId('run-1/finished'),
      source: 'job-executor',
      type: 'sh.keptn.event.test.finished',
      time: '2026-12-03T10:05:00.123Z',
      datacontenttype: 'application/json',
      shkeptncontext: 'ctx-5b1c2d3e',
      triggeredid: 'event-1',
      gitcommitid: 'commit-1',
      shkeptnspecversion: '0.2.4',
      data: {
        project: 'sockshop',
        stage: 'dev',
        service: 'carts',
        labels: { buildId: '42' },
        test: { start: '2026-12-03T10:00:00Z', end: '2026-12-03T10:05:00Z' },
        status: 'errored',
        result: 'fail',
        message: "Task 'run' failed: exit code 1",
      },
    });
  });

  void it('never lets the outcome data replace status, result or message', () => {
    const event = finishedEvent(envelope(), 'run-1', TIME, {
      status: 'succeeded',
      result: 'pass',
      message: 'ok',
      data: { status: 'errored', result: 'fail', message: 'forged' },
    });
    assert.equal(event.data.status, 'succeeded');
    assert.equal(event.data.result, 'pass');
    assert.equal(event.data.message, 'ok');
  });

  void it('has an id other than the started one', () => {
    const outcome = { status: 'succeeded', result: 'pass', message: '' } as const;
    assert.notEqual(
      finishedEvent(envelope(), 'run-1', TIME, outcome).id,
      startedEvent(envelope(), 'run-1', TIME).id,
    );
    assert.equal(
      finishedEvent(envelope(), 'run-1', TIME, outcome).id,
      finishedEvent(envelope(), 'run-1', TIME, outcome).id,
    );
  });
});
