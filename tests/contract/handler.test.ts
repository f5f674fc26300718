import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Annotations, annotationOf, StartedStates } from '../../lib/jobs/contract.js';
import { createFakeJobClient, type FakeJobClient } from '../fakes/job-client.js';
import { startFakeKeptnApi, type FakeKeptnApi } from '../fakes/keptn-api.js';
import { keptnEvent, unique } from '../helpers/factories.js';
import { postStructured, startHandler, type RunningHandler } from '../helpers/handler.js';

const CONFIG = `apiVersion: v2
actions:
  - name: functional tests
    events:
      - name: sh.keptn.event.test.triggered
        jsonpath: { property: $.data.test.teststrategy, match: functional }
    tasks:
      - name: prepare
        image: busybox:1.36
        cmd: [sh, -c, 'echo prepare']
      - name: run
        image: busybox:1.36
        files: [tests/]
`;

interface Context {
  keptn: FakeKeptnApi;
  jobs: FakeJobClient;
  handler: RunningHandler;
}

async function setUp(
  env: Record<string, string> | ((keptn: FakeKeptnApi) => Record<string, string>) = {},
): Promise<Context> {
  const keptn = await startFakeKeptnApi();
  const jobs = createFakeJobClient();
  const handler = await startHandler(keptn, jobs, typeof env === 'function' ? env(keptn) : env);
  return { keptn, jobs, handler };
}

async function tearDown(context: Context): Promise<void> {
  await context.handler.close();
  await context.keptn.close();
}

/** A project with its own config at the service level of `dev`, unique per test. */
function project(
  context: Context,
  config = CONFIG,
  level: 'service' | 'stage' | 'project' = 'service',
): string {
  const name = unique('proj');
  const where =
    level === 'project'
      ? { project: name }
      : level === 'stage'
        ? { project: name, stage: 'dev' }
        : { project: name, stage: 'dev', service: 'carts' };
  context.keptn.setResource(where, 'job/config.yaml', config, 'commit-1');
  return name;
}

void describe('handler contract (fake Keptn API over loopback, fake Kubernetes behind JobClient)', () => {
  let context: Context;
  before(async () => {
    context = await setUp();
  });
  after(async () => {
    await tearDown(context);
  });
  beforeEach(() => {
    context.keptn.events.length = 0;
    context.keptn.rejectedEvents.length = 0;
  });

  void it('accepts a structured event: Jobs exist before the 202, task 0 runs, task 1 is suspended, one .started', async () => {
    const event = keptnEvent({ data: { project: project(context) } });
    const answer = await postStructured(context.handler.url, event);
    assert.equal(answer.status, 202);
    const runs = answer.body.runs as { runId: string; jobs: { name: string; namespace: string }[] }[];
    assert.equal(runs.length, 1);
    const [first, second] = runs[0]!.jobs;
    assert.equal(context.jobs.job('jobs', first!.name)?.spec?.suspend, false);
    assert.equal(context.jobs.job('jobs', second!.name)?.spec?.suspend, true);
    assert.equal(
      context.jobs.job('jobs', first!.name)?.metadata?.annotations?.[Annotations.started],
      StartedStates.sent,
    );
    const started = context.keptn.eventsOfType('sh.keptn.event.test.started');
    assert.equal(started.length, 1);
    assert.equal(started[0]!.body.triggeredid, event.id);
    assert.equal(started[0]!.body.shkeptncontext, event.shkeptncontext);
    assert.deepEqual(context.keptn.rejectedEvents, []);
  });

  void it('still sends .started when a Job status update races its claim (409 is retried, not taken as a rival)', async () => {
    const event = keptnEvent({ data: { project: project(context) } });
    context.jobs.conflicts = 2;
    const answer = await postStructured(context.handler.url, event);
    assert.equal(answer.status, 202);
    assert.equal(context.jobs.conflicts, 0);
    assert.equal(context.keptn.eventsOfType('sh.keptn.event.test.started').length, 1);
  });

  void it('accepts a binary-mode event', async () => {
    const event = keptnEvent({ data: { project: project(context) } });
    const response = await fetch(context.handler.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': event.id,
        'ce-source': event.source,
        'ce-type': event.type,
        'ce-shkeptncontext': 'ctx-binary',
        'ce-gitcommitid': 'commit-1',
      },
      body: JSON.stringify(event.data),
    });
    assert.equal(response.status, 202);
    assert.equal(
      context.keptn.eventsOfType('sh.keptn.event.test.started')[0]?.body.shkeptncontext,
      'ctx-binary',
    );
  });

  void it('falls back service → stage → project, reading at the event commit and escaping the URI twice', async () => {
    const name = project(context, CONFIG, 'project');
    const before = context.keptn.resourceRequests.length;
    const answer = await postStructured(context.handler.url, keptnEvent({ data: { project: name } }));
    assert.equal(answer.status, 202);
    const requests = context.keptn.resourceRequests.slice(before);
    assert.deepEqual(
      requests.map((request) => [request.rawPath, request.query.gitCommitID ?? null, request.status]),
      [
        [
          `/api/resource-service/v1/project/${name}/stage/dev/service/carts/resource/job%252Fconfig.yaml`,
          'commit-1',
          404,
        ],
        [`/api/resource-service/v1/project/${name}/stage/dev/resource/job%252Fconfig.yaml`, 'commit-1', 404],
        [`/api/resource-service/v1/project/${name}/resource/job%252Fconfig.yaml`, null, 200],
      ],
    );
  });

  void it('takes the stage level when the service has no config', async () => {
    const answer = await postStructured(
      context.handler.url,
      keptnEvent({ data: { project: project(context, CONFIG, 'stage') } }),
    );
    assert.equal(answer.status, 202);
  });

  void it('answers a redelivered event the same, without a second set of Jobs or a second .started', async () => {
    const event = keptnEvent({ data: { project: project(context) } });
    const first = await postStructured(context.handler.url, event);
    const jobCount = context.jobs.jobs.size;
    const second = await postStructured(context.handler.url, event);
    assert.deepEqual(second, first);
    assert.equal(context.jobs.jobs.size, jobCount);
    assert.equal(context.keptn.eventsOfType('sh.keptn.event.test.started').length, 1);
  });

  void it('refuses an image outside the allow-list before creating anything, and ends the Keptn task errored', async () => {
    const strict = await setUp({ ALLOWED_IMAGES: 'registry.example/*' });
    try {
      const event = keptnEvent({ data: { project: project(strict) } });
      const answer = await postStructured(strict.handler.url, event);
      assert.equal(answer.status, 200);
      assert.equal((answer.body.error as { code: string }).code, 'JES_ERR_POLICY_IMAGE_NOT_ALLOWED');
      assert.equal(strict.jobs.jobs.size, 0);
      assert.equal(strict.jobs.calls.filter((call) => call.startsWith('create')).length, 0);
      const finished = strict.keptn.eventsOfType('sh.keptn.event.test.finished');
      assert.equal(finished.length, 1);
      assert.equal(strict.keptn.eventsOfType('sh.keptn.event.test.started').length, 1);
      const data = finished[0]!.body.data as Record<string, unknown>;
      assert.equal(data.status, 'errored');
      assert.equal(data.result, 'fail');
      assert.match(String(data.message), /image "busybox:1\.36" is not in the image allow-list/);
      assert.deepEqual(strict.keptn.rejectedEvents, []);
    } finally {
      await tearDown(strict);
    }
  });

  void it('refuses a namespace outside the allow-list', async () => {
    const config = CONFIG.replace(
      'image: busybox:1.36\n        cmd',
      'image: busybox:1.36\n        namespace: kube-system\n        cmd',
    );
    const answer = await postStructured(
      context.handler.url,
      keptnEvent({ data: { project: project(context, config) } }),
    );
    assert.equal((answer.body.error as { code: string }).code, 'JES_ERR_POLICY_NAMESPACE_NOT_ALLOWED');
    assert.equal(context.jobs.allJobs().filter((job) => job.metadata?.namespace === 'kube-system').length, 0);
  });

  void it('reports an invalid config as an errored .finished carrying every validation error', async () => {
    const config = CONFIG.replace('image: busybox:1.36\n        files', 'image: 42\n        filez');
    const answer = await postStructured(
      context.handler.url,
      keptnEvent({ data: { project: project(context, config) } }),
    );
    assert.equal(answer.status, 200);
    assert.equal((answer.body.error as { code: string }).code, 'JES_ERR_CONFIG_INVALID');
    const message = String(
      (context.keptn.eventsOfType('sh.keptn.event.test.finished')[0]?.body.data as Record<string, unknown>)
        .message,
    );
    assert.match(message, /actions\[0\]\.tasks\[1\]\.image: expected string/);
    assert.match(message, /actions\[0\]\.tasks\[1\]\.filez: unknown key/);
    assert.equal(context.keptn.eventsOfType('sh.keptn.event.test.started').length, 1);
  });

  void it('reports a missing config for a .triggered event, and ignores it for other events', async () => {
    const name = unique('empty');
    context.keptn.setResource(
      { project: name, stage: 'dev', service: 'other' },
      'readme.md',
      'x',
      'commit-1',
    );
    const triggered = await postStructured(context.handler.url, keptnEvent({ data: { project: name } }));
    assert.equal((triggered.body.error as { code: string }).code, 'JES_ERR_CONFIG_NOT_FOUND');
    assert.equal(context.keptn.eventsOfType('sh.keptn.event.test.finished').length, 1);
    const other = await postStructured(
      context.handler.url,
      keptnEvent({ type: 'sh.keptn.event.test.finished', data: { project: name } }),
    );
    assert.equal(other.status, 200);
    assert.equal(other.body.matched, false);
    assert.equal(context.keptn.eventsOfType('sh.keptn.event.test.finished').length, 1);
  });

  void it('sends nothing for a silent action', async () => {
    const config = CONFIG.replace('    tasks:', '    silent: true\n    tasks:');
    const answer = await postStructured(
      context.handler.url,
      keptnEvent({ data: { project: project(context, config) } }),
    );
    assert.equal(answer.status, 202);
    assert.equal(context.keptn.events.length, 0);
    const runs = answer.body.runs as { jobs: { name: string }[] }[];
    const first = context.jobs.job('jobs', runs[0]!.jobs[0]!.name);
    assert.equal(annotationOf(first, Annotations.started), StartedStates.none);
    assert.equal(annotationOf(first, Annotations.silent), 'true');
  });

  void it('refuses a silent action by policy without sending anything (the HTTP answer says why)', async () => {
    const strict = await setUp({ ALLOWED_IMAGES: 'registry.example/*' });
    try {
      const config = CONFIG.replace('    tasks:', '    silent: true\n    tasks:');
      const answer = await postStructured(
        strict.handler.url,
        keptnEvent({ data: { project: project(strict, config) } }),
      );
      assert.equal(answer.status, 403);
      assert.equal(answer.body.code, 'JES_ERR_POLICY_IMAGE_NOT_ALLOWED');
      assert.equal(strict.keptn.events.length, 0);
      assert.equal(strict.jobs.jobs.size, 0);
    } finally {
      await tearDown(strict);
    }
  });

  void it('runs every matching action, each with its own .started', async () => {
    const config = `${CONFIG}  - name: smoke
    events: [{ name: "sh.keptn.event.*.triggered" }]
    tasks: [{ name: smoke, image: busybox:1.36 }]
  - name: never
    events: [{ name: sh.keptn.event.deployment.triggered }]
    tasks: [{ name: x, image: busybox:1.36 }]
`;
    const answer = await postStructured(
      context.handler.url,
      keptnEvent({ data: { project: project(context, config) } }),
    );
    assert.equal(answer.status, 202);
    const runs = answer.body.runs as { action: string }[];
    assert.deepEqual(
      runs.map((run) => run.action),
      ['functional tests', 'smoke'],
    );
    assert.equal(context.keptn.eventsOfType('sh.keptn.event.test.started').length, 2);
  });

  void it('answers 200 matched:false and sends nothing when no action matches', async () => {
    const event = keptnEvent({ data: { project: project(context), test: { teststrategy: 'performance' } } });
    const answer = await postStructured(context.handler.url, event);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.matched, false);
    assert.equal(context.keptn.events.length, 0);
  });

  void it('answers 400 with the precise reason for a request that is not a CloudEvent', async () => {
    const response = await fetch(context.handler.url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: 'x', type: 'sh.keptn.event.test.triggered' }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, 'JES_ERR_EVENT_INVALID');
    assert.match(body.message, /source/);
  });

  void it('answers 400 when the event does not say where its config lives', async () => {
    const answer = await postStructured(context.handler.url, keptnEvent({ data: { project: '../etc' } }));
    assert.equal(answer.status, 400);
    assert.match(String(answer.body.message), /data\.project/);
  });

  void it('answers 503 when Kubernetes cannot be reached, so the sender retries; the retry succeeds', async () => {
    const event = keptnEvent({ data: { project: project(context) } });
    context.jobs.unavailable = true;
    const failed = await postStructured(context.handler.url, event);
    context.jobs.unavailable = false;
    assert.equal(failed.status, 503);
    assert.equal(failed.body.code, 'JES_ERR_K8S_UNAVAILABLE');
    assert.equal(context.keptn.events.length, 0);
    const retried = await postStructured(context.handler.url, event);
    assert.equal(retried.status, 202);
    assert.equal(context.keptn.eventsOfType('sh.keptn.event.test.started').length, 1);
  });

  void it('answers 503 when the resource API is down', async () => {
    const event = keptnEvent({ data: { project: project(context) } });
    // KEPTN_API_RETRIES=1: the first try and its one retry both fail.
    context.keptn.failNext('resource', 503, 2);
    const answer = await postStructured(context.handler.url, event);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.code, 'JES_ERR_CONFIG_SOURCE_UNAVAILABLE');
  });

  void it('retries the resource API after a 5xx and then succeeds', async () => {
    const event = keptnEvent({ data: { project: project(context) } });
    context.keptn.failNext('resource', 502, 1);
    const answer = await postStructured(context.handler.url, event);
    assert.equal(answer.status, 202);
  });

  void it('answers /healthz always and /readyz only while Kubernetes answers', async () => {
    assert.equal((await fetch(`${context.handler.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${context.handler.url}/readyz`)).status, 200);
    context.jobs.unavailable = true;
    try {
      const notReady = await fetch(`${context.handler.url}/readyz`);
      assert.equal(notReady.status, 503);
      assert.match(((await notReady.json()) as { reason: string }).reason, /cannot reach the Kubernetes API/);
    } finally {
      context.jobs.unavailable = false;
    }
  });

  void it('leaves .started to the webhook-service when KEPTN_SEND_STARTED=false', async () => {
    const webhook = await setUp({ KEPTN_SEND_STARTED: 'false' });
    try {
      const answer = await postStructured(
        webhook.handler.url,
        keptnEvent({ data: { project: project(webhook) } }),
      );
      assert.equal(answer.status, 202);
      assert.equal(webhook.keptn.events.length, 0);
      const runs = answer.body.runs as { jobs: { name: string }[] }[];
      assert.equal(
        webhook.jobs.job('jobs', runs[0]!.jobs[0]!.name)?.metadata?.annotations?.[Annotations.started],
        StartedStates.none,
      );
    } finally {
      await tearDown(webhook);
    }
  });

  void it('behind the webhook-service, finishes an event no action matches (its .started came from the webhook)', async () => {
    const webhook = await setUp({ KEPTN_SEND_STARTED: 'false' });
    try {
      const event = keptnEvent({
        data: { project: project(webhook), test: { teststrategy: 'performance' } },
      });
      const answer = await postStructured(webhook.handler.url, event);
      assert.equal(answer.status, 200);
      assert.deepEqual([answer.body.matched, answer.body.reported], [false, true]);
      const finished = webhook.keptn.eventsOfType('sh.keptn.event.test.finished');
      assert.equal(finished.length, 1);
      assert.equal(finished[0]!.body.triggeredid, event.id);
      const data = finished[0]!.body.data as Record<string, unknown>;
      assert.deepEqual([data.status, data.result], ['succeeded', 'pass']);
      assert.match(String(data.message), /Nothing to run: no action/);
      assert.equal(webhook.keptn.eventsOfType('sh.keptn.event.test.started').length, 0);
    } finally {
      await tearDown(webhook);
    }
  });

  void it('refuses a task that asks for the Secret holding the Keptn API token', async () => {
    const guarded = await setUp({ KEPTN_API_TOKEN_SECRET: 'job-executor-keptn/token' });
    try {
      const config = CONFIG.replace(
        "        cmd: [sh, -c, 'echo prepare']",
        "        cmd: [sh, -c, 'echo prepare']\n        env: [{ name: STOLEN, valueFrom: secret, secret: job-executor-keptn, key: token }]",
      );
      const answer = await postStructured(
        guarded.handler.url,
        keptnEvent({ data: { project: project(guarded, config) } }),
      );
      assert.equal((answer.body.error as { code: string }).code, 'JES_ERR_POLICY_SECRET_NOT_ALLOWED');
      assert.equal(guarded.jobs.jobs.size, 0);
    } finally {
      await tearDown(guarded);
    }
  });

  void it('reads through the in-cluster resource service with single escaping when so configured', async () => {
    const direct = await setUp((keptn) => ({
      KEPTN_RESOURCE_URI_ESCAPING: 'single',
      KEPTN_RESOURCE_SERVICE_URL: keptn.directResourceServiceUrl,
    }));
    try {
      const answer = await postStructured(
        direct.handler.url,
        keptnEvent({ data: { project: project(direct) } }),
      );
      assert.equal(answer.status, 202);
      assert.match(
        direct.keptn.resourceRequests.at(-1)?.rawPath ?? '',
        /\/resource-service\/v1\/.*\/resource\/job%2Fconfig\.yaml$/,
      );
    } finally {
      await tearDown(direct);
    }
  });

  void it('finds nothing through the gateway with single escaping (the documented pitfall) and says so', async () => {
    const wrong = await setUp({ KEPTN_RESOURCE_URI_ESCAPING: 'single' });
    try {
      const answer = await postStructured(
        wrong.handler.url,
        keptnEvent({ data: { project: project(wrong) } }),
      );
      assert.equal((answer.body.error as { code: string }).code, 'JES_ERR_CONFIG_NOT_FOUND');
      assert.equal(wrong.jobs.jobs.size, 0);
    } finally {
      await tearDown(wrong);
    }
  });
});
