import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { Labels } from '../../lib/jobs/contract.js';
import { createLogger } from '../../lib/log/index.js';
import { createReconciler } from '../../lib/reconcile/runner.js';
import { createEventSink } from '../../lib/runtime/dependencies.js';
import { loadSettings } from '../../lib/settings/index.js';
import { createFakeJobClient, type FakeJobClient } from '../fakes/job-client.js';
import { startFakeKeptnApi, type FakeKeptnApi } from '../fakes/keptn-api.js';
import { startHandler, type RunningHandler } from '../helpers/handler.js';
import { endJob, runningJob } from '../helpers/job-controller.js';
import { buildGoTool, runTool } from '../helpers/tools.js';

/**
 * infra/keptn/webhook/webhook.yaml as Keptn's webhook-service executes it, end to end against the handler:
 *
 * 1. The request is assembled into a curl command as the webhook-service does for `webhookconfig.keptn.sh/v1beta1`
 *    (`curl --request M --header 'K: V' … --data '<payload>' <url>`), and the WHOLE command is rendered with real Go
 *    text/template semantics (tests/tools/gotemplate: the standard library, `missingkey=error`) over the event as the
 *    webhook-service sees it: the Keptn event model serialized to a map (attributes with `omitempty`, `contenttype`
 *    rather than `datacontenttype`, the Secret values under `env`).
 * 2. The rendered command must pass the webhook-service's checks: no `$ | ; > $( &&` backtick ` &` `/var/run`, no
 *    output/upload/config options, no `@file` data, a URL outside its default deny list; it is then split into
 *    arguments with the webhook-service's quoting rules.
 * 3. Those arguments are sent as curl sends them (`--data` body, the webhook's headers) to the handler, which runs
 *    with KEPTN_SEND_STARTED=false; the reconciler drives the run to its end, and the fake Keptn API must receive
 *    exactly one `.finished` answering the original event (triggeredid, shkeptncontext) and no `.started` from us
 *    (the webhook-service sent that one).
 *
 * The webhook-service behaviour reproduced here is described in the project's Keptn protocol reference (§5) and read
 * from keptn/keptn webhook-service (handler/handler.go, lib/curl_executor.go, lib/request_validator.go).
 */

const root = resolve(import.meta.dirname, '../..');
const WEBHOOK_FILE = join(root, 'infra/keptn/webhook/webhook.yaml');
/** Where the Keptn webhook reaches the handler in a cluster (both the Knative and the plain-Kubernetes variant). */
const HANDLER_URL = 'http://job-executor-handler.job-executor.svc.cluster.local/';
const TOKEN = 'gateway-token-0123456789';

/** The task event of the protocol reference (§2): a test task after a deployment, delivered through a subscription. */
const TRIGGERED = {
  specversion: '1.0',
  id: '7d3f9c1e-2b6a-4f0e-9a51-0c8e4b2d1f10',
  source: 'shipyard-controller',
  type: 'sh.keptn.event.test.triggered',
  time: '2023-05-04T10:00:00.000Z',
  datacontenttype: 'application/json',
  shkeptncontext: '5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
  shkeptnspecversion: '0.2.4',
  gitcommitid: '8f2e6c1a9b7d5e3f',
  data: {
    project: 'sockshop',
    stage: 'dev',
    service: 'carts',
    labels: { buildId: '42' },
    status: 'succeeded',
    result: 'pass',
    message: '',
    deployment: { deploymentstrategy: 'direct', deploymentURIsLocal: ['http://carts.sockshop-dev:80'] },
    test: { teststrategy: 'functional' },
    temporaryData: { distributor: { subscriptionID: '0b9e7a52-3c1d-4e8f-a6b2-9d0c1e2f3a4b' } },
  },
};

const CONFIG = `apiVersion: v2
actions:
  - name: functional tests
    events:
      - name: sh.keptn.event.test.triggered
        jsonpath: { property: $.data.test.teststrategy, match: functional }
    tasks:
      - name: smoke
        image: busybox:1.36
        cmd: [sh, -c, 'wget -q -O- "$TARGET"']
        env:
          - { name: TARGET, valueFrom: event, value: '$.data.deployment.deploymentURIsLocal[0]' }
`;

interface WebhookRequest {
  url: string;
  method: string;
  headers?: { key: string; value: string }[];
  payload?: string;
  options?: string;
}

interface Webhook {
  type: string;
  subscriptionID: string;
  sendStarted?: boolean;
  sendFinished?: boolean;
  envFrom?: { name: string; secretRef: { name: string; key: string } }[];
  requests: WebhookRequest[];
}

interface WebhookConfig {
  apiVersion: string;
  kind: string;
  spec: { webhooks: Webhook[] };
}

async function loadWebhooks(): Promise<WebhookConfig> {
  return parse(await readFile(WEBHOOK_FILE, 'utf8')) as WebhookConfig;
}

function webhookFor(config: WebhookConfig, type: string): Webhook {
  const webhook = config.spec.webhooks.find((candidate) => candidate.type === type);
  assert.ok(webhook, `webhook.yaml has no webhook for ${type}`);
  return webhook;
}

/**
 * The data the webhook-service renders templates over: its Keptn event model (go-utils KeptnContextExtendedCE,
 * JSON with `omitempty` on every attribute but data/source/type/time) decoded into a map, plus the secrets as `env`.
 */
function templateData(event: Record<string, unknown>, env: Record<string, string>): Record<string, unknown> {
  const optional = (name: string, value: unknown) =>
    value === undefined || value === '' ? {} : { [name]: value };
  return {
    ...optional('contenttype', event.datacontenttype),
    data: event.data,
    ...optional('id', event.id),
    ...optional('shkeptncontext', event.shkeptncontext),
    ...optional('shkeptnspecversion', event.shkeptnspecversion),
    source: event.source,
    ...optional('specversion', event.specversion),
    time: event.time ?? '0001-01-01T00:00:00.000Z',
    ...optional('triggeredid', event.triggeredid),
    ...optional('gitcommitid', event.gitcommitid),
    type: event.type,
    env,
  };
}

/** The command the webhook-service builds from a v1beta1 request, before rendering. */
function curlTemplate(request: WebhookRequest): string {
  let command = `curl --request ${request.method}`;
  for (const header of request.headers ?? []) command += ` --header '${header.key}: ${header.value}'`;
  if (request.payload !== undefined && request.payload !== '') command += ` --data '${request.payload}'`;
  if (request.options !== undefined && request.options !== '') command += ` ${request.options}`;
  return `${command} ${request.url}`;
}

/** Renders with Go's text/template (missingkey=error) through tests/tools/gotemplate. */
async function renderGo(gotemplate: string, template: string, data: unknown): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'jes-webhook-'));
  try {
    await writeFile(join(directory, 'template'), template);
    await writeFile(join(directory, 'data.json'), JSON.stringify(data));
    const result = await runTool(gotemplate, [
      '-template',
      join(directory, 'template'),
      '-data',
      join(directory, 'data.json'),
    ]);
    if (result.code !== 0) throw new Error(result.stderr.trim());
    return result.stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

const FORBIDDEN_SUBSTRINGS = ['$', '|', ';', '>', '$(', ' &', '&&', '`', '/var/run'];
const FORBIDDEN_OPTIONS = ['-o', '--output', '-F', '--form', '-T', '--upload-file', '-K', '--config'];
/** keptn-webhook-config's default denyList, plus what the webhook-service adds for the API server it runs next to. */
const DENIED_URL_PARTS = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'localhost',
  '127.0.0.1',
  '::1',
  '10.96.0.1',
  'kubernetes:443',
];

/** Splits a command line as the webhook-service does: blanks separate, '…' and "…" group verbatim, \ escapes. */
function splitCommandLine(command: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inArgument = false;
  for (let index = 0; index < command.length; index += 1) {
    const char = command.charAt(index);
    if (quote !== undefined) {
      if (char === quote) {
        args.push(current);
        current = '';
        quote = undefined;
        inArgument = false;
      } else {
        current += char;
      }
    } else if (char === '\\') {
      index += 1;
      current += command.charAt(index);
      inArgument = true;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === ' ' || char === '\t') {
      if (inArgument) args.push(current);
      current = '';
      inArgument = false;
    } else {
      current += char;
      inArgument = true;
    }
  }
  if (quote !== undefined) throw new Error('unclosed quote in command');
  if (current !== '') args.push(current);
  return args.filter((arg) => arg !== '');
}

interface CurlCall {
  method: string;
  headers: Record<string, string>;
  data: string;
  url: string;
}

/** The webhook-service's checks on a rendered command; returns what curl would send. */
function checkedCurlCall(command: string, url: string): CurlCall {
  for (const forbidden of FORBIDDEN_SUBSTRINGS) {
    assert.ok(!command.includes(forbidden), `the rendered command contains ${JSON.stringify(forbidden)}`);
  }
  for (const denied of DENIED_URL_PARTS) {
    assert.ok(!url.includes(denied), `the URL ${url} contains the denied ${denied}`);
  }
  const args = splitCommandLine(command);
  assert.equal(args[0], 'curl', 'only curl commands are run');
  const call: CurlCall = { method: 'GET', headers: {}, data: '', url: '' };
  for (let index = 1; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    for (const option of FORBIDDEN_OPTIONS) {
      assert.ok(!arg.startsWith(option) || arg === '--data', `the command uses the refused option ${option}`);
    }
    const value = args[index + 1] ?? '';
    if (arg === '--request' || arg === '-X') {
      call.method = value;
      index += 1;
    } else if (arg === '--header' || arg === '-H') {
      const colon = value.indexOf(':');
      call.headers[value.slice(0, colon).trim().toLowerCase()] = value.slice(colon + 1).trim();
      index += 1;
    } else if (arg === '--data' || arg === '-d') {
      assert.ok(!value.startsWith('@'), 'file uploads with @ are refused');
      call.data = value;
      index += 1;
    } else {
      call.url = arg;
    }
  }
  return call;
}

async function curlToHandler(
  gotemplate: string,
  webhook: Webhook,
  event: Record<string, unknown>,
  handlerUrl: string,
): Promise<{ call: CurlCall; status: number; body: Record<string, unknown> }> {
  const [request] = webhook.requests;
  assert.ok(request);
  const command = await renderGo(gotemplate, curlTemplate(request), templateData(event, { token: TOKEN }));
  const call = checkedCurlCall(command, request.url);
  assert.equal(call.url, HANDLER_URL);
  // curl --data sends the argument as the body, with the Content-Type header given; --fail-with-body (always added
  // by the webhook-service) turns any non-2xx into a failed request.
  const response = await fetch(handlerUrl, { method: call.method, headers: call.headers, body: call.data });
  return { call, status: response.status, body: (await response.json()) as Record<string, unknown> };
}

void describe('Keptn webhook-service → handler (infra/keptn/webhook/webhook.yaml, Go templates, fakes)', () => {
  let gotemplate: string;
  let keptn: FakeKeptnApi;
  let jobs: FakeJobClient;
  let handler: RunningHandler;

  before(async () => {
    gotemplate = await buildGoTool('gotemplate');
    keptn = await startFakeKeptnApi();
    jobs = createFakeJobClient();
    handler = await startHandler(keptn, jobs, { KEPTN_SEND_STARTED: 'false' });
    keptn.setResource(
      { project: 'sockshop', stage: 'dev', service: 'carts' },
      'job/config.yaml',
      CONFIG,
      TRIGGERED.gitcommitid,
    );
  });
  after(async () => {
    await handler.close();
    await keptn.close();
  });

  void it('is a v1beta1 config whose webhooks forward to the handler, send .started and leave .finished to us', async () => {
    const config = await loadWebhooks();
    assert.equal(config.apiVersion, 'webhookconfig.keptn.sh/v1beta1');
    assert.equal(config.kind, 'WebhookConfig');
    assert.ok(config.spec.webhooks.length > 0);
    for (const webhook of config.spec.webhooks) {
      assert.match(webhook.type, /^sh\.keptn\.event\.[^.]+\.triggered$/);
      assert.notEqual(webhook.subscriptionID, '');
      assert.equal(webhook.sendFinished, false, `${webhook.type}: sendFinished`);
      assert.equal(webhook.sendStarted, true, `${webhook.type}: sendStarted`);
      assert.deepEqual(webhook.envFrom, [
        { name: 'token', secretRef: { name: 'job-executor-webhook', key: 'token' } },
      ]);
      assert.equal(webhook.requests.length, 1, 'one request per event: one .started, one .finished');
      const [request] = webhook.requests;
      assert.ok(request);
      assert.equal(request.url, HANDLER_URL);
      assert.equal(request.method, 'POST');
      assert.deepEqual(request.headers, [
        { key: 'Content-Type', value: 'application/json' },
        { key: 'Authorization', value: 'Bearer {{.env.token}}' },
      ]);
    }
  });

  void it('renders the Keptn event into a structured CloudEvent the handler accepts; the run ends with one .finished answering it', async () => {
    const webhook = webhookFor(await loadWebhooks(), TRIGGERED.type);
    const { call, status, body } = await curlToHandler(gotemplate, webhook, TRIGGERED, handler.url);
    assert.equal(call.method, 'POST');
    assert.equal(call.headers['content-type'], 'application/json');
    assert.equal(call.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(JSON.parse(call.data), {
      specversion: '1.0',
      id: TRIGGERED.id,
      source: TRIGGERED.source,
      type: TRIGGERED.type,
      datacontenttype: 'application/json',
      shkeptncontext: TRIGGERED.shkeptncontext,
      gitcommitid: TRIGGERED.gitcommitid,
      data: {
        project: 'sockshop',
        stage: 'dev',
        service: 'carts',
        test: { teststrategy: 'functional' },
        deployment: { deploymentURIsLocal: ['http://carts.sockshop-dev:80'] },
      },
    });
    assert.equal(status, 202, JSON.stringify(body));
    const runs = body.runs as { runId: string }[];
    assert.equal(runs.length, 1);
    const runId = runs[0]?.runId ?? '';

    // The webhook-service does not retry, but a resent event must not start anything twice.
    const again = await curlToHandler(gotemplate, webhook, TRIGGERED, handler.url);
    assert.equal(again.status, 202);
    assert.equal(jobs.allJobs().filter((job) => job.metadata?.labels?.[Labels.run] === runId).length, 1);

    const job = runningJob(jobs, runId);
    assert.ok(job, 'task 0 runs');
    const taskEnv = job.spec?.template.spec?.containers[0]?.env ?? [];
    assert.equal(
      taskEnv.find((variable) => variable.name === 'TARGET')?.value,
      'http://carts.sockshop-dev:80',
    );

    const settings = loadSettings(
      {
        KEPTN_API_URL: keptn.apiUrl,
        KEPTN_API_TOKEN: keptn.token,
        KEPTN_API_RETRIES: '0',
        KEPTN_SEND_STARTED: 'false',
        JOB_NAMESPACE: 'jobs',
        LOG_LEVEL: 'silent',
        RECONCILER_ID: 'webhook-test',
      },
      { needsConfigSource: false },
    );
    const log = createLogger('silent', 'webhook-test');
    const reconciler = createReconciler({ settings, jobs, sink: createEventSink(settings, log), log });
    endJob(jobs, job, { kind: 'succeeded', log: 'ok\n' });
    await reconciler.pass();
    await reconciler.pass();

    const finished = keptn.eventsOfType('sh.keptn.event.test.finished');
    assert.equal(finished.length, 1, 'exactly one .finished');
    const reply = finished[0]?.body ?? {};
    assert.equal(reply.triggeredid, TRIGGERED.id);
    assert.equal(reply.shkeptncontext, TRIGGERED.shkeptncontext);
    const data = reply.data as Record<string, unknown>;
    assert.deepEqual([data.project, data.stage, data.service], ['sockshop', 'dev', 'carts']);
    assert.deepEqual([data.status, data.result], ['succeeded', 'pass']);
    assert.deepEqual(
      keptn.eventsOfType('sh.keptn.event.test.started'),
      [],
      'the webhook-service sent .started',
    );
    assert.deepEqual(keptn.rejectedEvents, []);
  });

  void it('renders events without the optional fields (no gitcommitid, no task data) instead of failing the request', async () => {
    const webhook = webhookFor(await loadWebhooks(), 'sh.keptn.event.infrastructure.triggered');
    const { data: taskData, ...attributes } = TRIGGERED;
    const event = {
      ...attributes,
      id: '0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e',
      type: 'sh.keptn.event.infrastructure.triggered',
      gitcommitid: '',
      data: { project: taskData.project, stage: 'hardening', service: taskData.service, deployment: {} },
    };
    const [request] = webhook.requests;
    assert.ok(request);
    const command = await renderGo(gotemplate, curlTemplate(request), templateData(event, { token: TOKEN }));
    const call = checkedCurlCall(command, request.url);
    assert.deepEqual(JSON.parse(call.data), {
      specversion: '1.0',
      id: event.id,
      source: event.source,
      type: event.type,
      datacontenttype: 'application/json',
      shkeptncontext: event.shkeptncontext,
      data: { project: 'sockshop', stage: 'hardening', service: 'carts' },
    });
  });

  void it('the renderer has missingkey=error (a plain reference to an absent key fails) and the checks refuse shell characters', async () => {
    await assert.rejects(
      renderGo(gotemplate, '{"x":"{{.data.nope}}"}', templateData(TRIGGERED, {})),
      /map has no entry for key "nope"/,
    );
    const webhook = webhookFor(await loadWebhooks(), TRIGGERED.type);
    const [request] = webhook.requests;
    assert.ok(request);
    const hostile = { ...TRIGGERED, data: { ...TRIGGERED.data, test: { teststrategy: 'a;rm -rf /' } } };
    const command = await renderGo(
      gotemplate,
      curlTemplate(request),
      templateData(hostile, { token: TOKEN }),
    );
    assert.throws(() => checkedCurlCall(command, request.url), /contains ";"/);
  });
});
