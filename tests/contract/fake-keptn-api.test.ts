/**
 * Contract tests of the FAKE Keptn API (tests/fakes/keptn-api.ts): they pin the behaviour that the other contract
 * tests rely on, so that a change to the fake is a deliberate one.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';

import {
  FAKE_UPSTREAM_URL,
  keptnContextFor,
  startFakeKeptnApi,
  type FakeKeptnApi,
  type FakeKeptnApiOptions,
} from '../fakes/keptn-api.js';

interface ApiErrorBody {
  code: number;
  message: string;
}
interface Metadata {
  upstreamURL: string;
  version: string;
  branch: string;
}
interface ResourceBody {
  resourceURI: string;
  resourceContent: string;
  metadata: Metadata;
}
interface ResourceListBody {
  resources: { resourceURI: string; metadata: Metadata }[];
  nextPageKey: string;
  pageSize: number;
  totalCount: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRIGGERED_ID = '7d3f9c1e-2b6a-4f0e-9a51-0c8e4b2d1f10';
const KEPTN_CONTEXT = '5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

async function start(t: TestContext, options?: FakeKeptnApiOptions): Promise<FakeKeptnApi> {
  const api = await startFakeKeptnApi(options);
  t.after(() => api.close());
  return api;
}

/** `token: null` sends no x-token header at all. */
function get(api: FakeKeptnApi, url: string, token: string | null = api.token): Promise<Response> {
  return fetch(url, { headers: token === null ? {} : { 'x-token': token } });
}

function postEvent(
  api: FakeKeptnApi,
  body: unknown,
  init: { contentType?: string; token?: string } = {},
): Promise<Response> {
  return fetch(`${api.apiUrl}/v1/event`, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json', 'x-token': init.token ?? api.token },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function expectApiError(response: Response, status: number, message?: string | RegExp): Promise<void> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = await json<ApiErrorBody>(response);
  assert.equal(body.code, status);
  assert.equal(typeof body.message, 'string');
  if (typeof message === 'string') assert.equal(body.message, message);
  else if (message !== undefined) assert.match(body.message, message);
}

async function expectPageNotFound(response: Response): Promise<void> {
  assert.equal(response.status, 404);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(await response.text(), '404 page not found');
}

function stageUrl(base: string, uri: string): string {
  return `${base}/v1/project/sockshop/stage/dev/resource/${uri}`;
}

function startedEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: 'sender-id-1',
    source: 'job-executor',
    type: 'sh.keptn.event.test.started',
    time: '2023-05-04T10:00:01.000Z',
    datacontenttype: 'application/json',
    shkeptncontext: KEPTN_CONTEXT,
    triggeredid: TRIGGERED_ID,
    data: { project: 'sockshop', stage: 'dev', service: 'carts' },
    ...overrides,
  };
}

function finishedEvent(data: Record<string, unknown> = {}): Record<string, unknown> {
  return startedEvent({
    type: 'sh.keptn.event.test.finished',
    data: {
      project: 'sockshop',
      stage: 'dev',
      service: 'carts',
      result: 'pass',
      status: 'succeeded',
      ...data,
    },
  });
}

/** A valid .finished event whose JSON encoding is exactly `bytes` long. */
function finishedEventOfSize(bytes: number): string {
  const base = JSON.stringify(finishedEvent({ padding: '' }));
  const text = JSON.stringify(finishedEvent({ padding: 'x'.repeat(bytes - Buffer.byteLength(base)) }));
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

void describe('fake Keptn API: server basics', () => {
  void it('listens on 127.0.0.1 with an ephemeral port and exposes the three bases', async (t) => {
    const api = await start(t);
    assert.match(api.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(api.apiUrl, `${api.origin}/api`);
    assert.equal(api.gatewayResourceServiceUrl, `${api.origin}/api/resource-service`);
    assert.equal(api.directResourceServiceUrl, `${api.origin}/resource-service`);
    assert.match(api.token, /^[0-9a-f]{48}$/);
    const other = await start(t);
    assert.notEqual(other.origin, api.origin);
    assert.notEqual(other.token, api.token);
  });

  void it('answers unknown routes with gin’s plain-text 404', async (t) => {
    const api = await start(t);
    await expectPageNotFound(await get(api, `${api.origin}/api/v1/nothing`));
    await expectPageNotFound(await get(api, `${api.gatewayResourceServiceUrl}/v1/project/sockshop`));
    await expectPageNotFound(
      await get(api, `${api.directResourceServiceUrl}/v2/project/sockshop/resource/x`),
    );
  });

  void it('close() is idempotent', async () => {
    const api = await startFakeKeptnApi();
    await Promise.all([api.close(), api.close()]);
    await api.close();
  });
});

void describe('fake Keptn API: auth', () => {
  void it('needs x-token on every route, answering 401 in Keptn’s error shape', async (t) => {
    const api = await start(t, { token: 'secret-token' });
    assert.equal(api.token, 'secret-token');
    api.setResource({ project: 'sockshop', stage: 'dev' }, 'shipyard.yaml', 'x');
    const urls = [
      stageUrl(api.gatewayResourceServiceUrl, 'shipyard.yaml'),
      stageUrl(api.directResourceServiceUrl, 'shipyard.yaml'),
      `${api.origin}/anything`,
    ];
    for (const url of urls) {
      await expectApiError(await get(api, url, null), 401, 'unauthenticated for invalid credentials');
      await expectApiError(await get(api, url, 'wrong'), 401, 'incorrect api key auth');
    }
    await expectApiError(await postEvent(api, startedEvent(), { token: 'wrong' }), 401);
    assert.equal(api.events.length, 0);
    assert.equal((await get(api, urls[0]!)).status, 200);
  });
});

void describe('fake Keptn API: resource GET and {uri} escaping', () => {
  const config = 'apiVersion: v2\nactions: []\n';

  async function withConfig(t: TestContext): Promise<FakeKeptnApi> {
    const api = await start(t);
    api.setResource({ project: 'sockshop', stage: 'dev' }, 'job/config.yaml', config, 'c0ffee01');
    return api;
  }

  void it('gateway: double escaping works and resourceURI is echoed as the resource-service received it', async (t) => {
    const api = await withConfig(t);
    const uri = encodeURIComponent(encodeURIComponent('job/config.yaml'));
    assert.equal(uri, 'job%252Fconfig.yaml');
    const response = await get(api, stageUrl(api.gatewayResourceServiceUrl, uri));
    assert.equal(response.status, 200);
    const body = await json<ResourceBody>(response);
    assert.equal(body.resourceURI, 'job%2Fconfig.yaml');
    assert.equal(Buffer.from(body.resourceContent, 'base64').toString('utf8'), config);
    assert.deepEqual(body.metadata, { upstreamURL: FAKE_UPSTREAM_URL, version: 'c0ffee01', branch: 'dev' });
  });

  void it('gateway: single escaping is decoded by "nginx" into two segments → gin 404 page', async (t) => {
    const api = await withConfig(t);
    await expectPageNotFound(await get(api, stageUrl(api.gatewayResourceServiceUrl, 'job%2Fconfig.yaml')));
  });

  void it('direct: single escaping works', async (t) => {
    const api = await withConfig(t);
    const response = await get(
      api,
      stageUrl(api.directResourceServiceUrl, encodeURIComponent('job/config.yaml')),
    );
    assert.equal(response.status, 200);
    const body = await json<ResourceBody>(response);
    assert.equal(body.resourceURI, 'job%2Fconfig.yaml');
    assert.equal(Buffer.from(body.resourceContent, 'base64').toString('utf8'), config);
  });

  void it('direct: double escaping names a file literally called "job%2Fconfig.yaml" → Resource not found', async (t) => {
    const api = await withConfig(t);
    await expectApiError(
      await get(api, stageUrl(api.directResourceServiceUrl, 'job%252Fconfig.yaml')),
      404,
      'Resource not found',
    );
  });

  void it('direct: an unescaped slash is two segments → gin 404 page', async (t) => {
    const api = await withConfig(t);
    await expectPageNotFound(await get(api, stageUrl(api.directResourceServiceUrl, 'job/config.yaml')));
  });

  void it('a URI without "/" needs no escaping on either base; "+" is a space (QueryUnescape)', async (t) => {
    const api = await start(t);
    api.setResource({ project: 'sockshop', stage: 'dev' }, 'shipyard.yaml', 'stages: []');
    api.setResource({ project: 'sockshop', stage: 'dev' }, 'my file.txt', 'spaced');
    for (const base of [api.gatewayResourceServiceUrl, api.directResourceServiceUrl]) {
      assert.equal((await get(api, stageUrl(base, 'shipyard.yaml'))).status, 200);
      const spaced = await json<ResourceBody>(await get(api, stageUrl(base, 'my+file.txt')));
      assert.equal(Buffer.from(spaced.resourceContent, 'base64').toString(), 'spaced');
    }
  });

  void it('rejects "~" and ".." in the URI with 400 (on both bases)', async (t) => {
    const api = await withConfig(t);
    await expectApiError(
      await get(api, stageUrl(api.directResourceServiceUrl, '..%2Fsecret')),
      400,
      /'~' or '\.\.'/,
    );
    await expectApiError(await get(api, stageUrl(api.directResourceServiceUrl, '~root')), 400);
    await expectApiError(await get(api, stageUrl(api.gatewayResourceServiceUrl, '..%252Fsecret')), 400);
  });

  void it('round-trips content through standard base64, binary included', async (t) => {
    const api = await start(t);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = 'ünïcödé ✓ 🚀\r\n';
    api.setResource({ project: 'p', stage: 's', service: 'svc' }, 'bin/all-bytes.bin', binary);
    api.setResource({ project: 'p', stage: 's', service: 'svc' }, 'text.txt', text);
    const base = `${api.directResourceServiceUrl}/v1/project/p/stage/s/service/svc/resource`;
    const bin = await json<ResourceBody>(
      await get(api, `${base}/${encodeURIComponent('bin/all-bytes.bin')}`),
    );
    assert.match(bin.resourceContent, /^[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(Buffer.from(bin.resourceContent, 'base64'), binary);
    assert.equal(bin.metadata.branch, 's');
    const txt = await json<ResourceBody>(await get(api, `${base}/text.txt`));
    assert.equal(Buffer.from(txt.resourceContent, 'base64').toString('utf8'), text);
  });

  void it('does not keep a reference to the Buffer passed to setResource', async (t) => {
    const api = await start(t);
    const content = Buffer.from('original');
    api.setResource({ project: 'p' }, 'f.txt', content);
    content.write('mutated!');
    const body = await json<ResourceBody>(
      await get(api, `${api.directResourceServiceUrl}/v1/project/p/resource/f.txt`),
    );
    assert.equal(Buffer.from(body.resourceContent, 'base64').toString(), 'original');
  });
});

void describe('fake Keptn API: levels and 404 bodies', () => {
  async function withLevels(t: TestContext): Promise<FakeKeptnApi> {
    const api = await start(t);
    api.setResource({ project: 'sockshop' }, 'job/config.yaml', 'project');
    api.setResource({ project: 'sockshop', stage: 'dev' }, 'job/config.yaml', 'stage');
    api.setResource({ project: 'sockshop', stage: 'dev', service: 'carts' }, 'job/config.yaml', 'service');
    api.setResource({ project: 'sockshop', stage: 'dev', service: 'orders' }, 'only-orders.yaml', 'orders');
    return api;
  }

  async function content(api: FakeKeptnApi, path: string): Promise<string> {
    const response = await get(api, `${api.directResourceServiceUrl}/v1/project/sockshop${path}`);
    assert.equal(response.status, 200, path);
    const body = await json<ResourceBody>(response);
    return Buffer.from(body.resourceContent, 'base64').toString();
  }

  void it('keeps project, stage and service levels apart (no merging, no inheritance)', async (t) => {
    const api = await withLevels(t);
    const uri = 'job%2Fconfig.yaml';
    assert.equal(await content(api, `/resource/${uri}`), 'project');
    assert.equal(await content(api, `/stage/dev/resource/${uri}`), 'stage');
    assert.equal(await content(api, `/stage/dev/service/carts/resource/${uri}`), 'service');
    const projectMeta = await json<ResourceBody>(
      await get(api, `${api.directResourceServiceUrl}/v1/project/sockshop/resource/${uri}`),
    );
    assert.equal(projectMeta.metadata.branch, 'master');
    await expectApiError(
      await get(
        api,
        `${api.directResourceServiceUrl}/v1/project/sockshop/stage/dev/resource/only-orders.yaml`,
      ),
      404,
      'Resource not found',
    );
  });

  void it('answers Project / Stage / Service / Resource not found as {"code":404,"message":…}', async (t) => {
    const api = await withLevels(t);
    const base = `${api.gatewayResourceServiceUrl}/v1/project`;
    const cases: [string, string][] = [
      [`${base}/unknown/resource/x`, 'Project not found'],
      [`${base}/unknown/stage/dev/resource/x`, 'Project not found'],
      [`${base}/sockshop/stage/prod/resource/x`, 'Stage not found'],
      [`${base}/sockshop/stage/dev/service/payment/resource/x`, 'Service not found'],
      [`${base}/sockshop/stage/dev/service/carts/resource/missing.yaml`, 'Resource not found'],
      [`${base}/sockshop/resource/missing.yaml`, 'Resource not found'],
      [`${base}/unknown/resource`, 'Project not found'],
      [`${base}/sockshop/stage/prod/resource`, 'Stage not found'],
    ];
    for (const [url, message] of cases) {
      const response = await get(api, url);
      assert.deepEqual(await json<ApiErrorBody>(response), { code: 404, message }, url);
      assert.equal(response.status, 404);
    }
  });

  void it('is read-only: other methods get gin’s 404 page', async (t) => {
    const api = await withLevels(t);
    const response = await fetch(`${api.directResourceServiceUrl}/v1/project/sockshop/resource/x`, {
      method: 'PUT',
      headers: { 'x-token': api.token, 'content-type': 'application/json' },
      body: '{}',
    });
    await expectPageNotFound(response);
  });

  void it('refuses impossible levels in setResource', async (t) => {
    const api = await start(t);
    assert.throws(() => {
      api.setResource({ project: 'p', service: 'svc' }, 'a', 'x');
    }, /needs a stage/);
    assert.throws(() => {
      api.setResource({ project: 'p/q' }, 'a', 'x');
    }, /invalid project/);
    assert.throws(() => {
      api.setResource({ project: 'p' }, '../a', 'x');
    }, /invalid resource URI/);
  });
});

void describe('fake Keptn API: commit versions (gitCommitID)', () => {
  const dev = { project: 'sockshop', stage: 'dev' };

  async function withHistory(t: TestContext): Promise<FakeKeptnApi> {
    const api = await start(t);
    api.setResource(dev, 'job/config.yaml', 'v1', 'c1');
    api.setResource(dev, 'other.yaml', 'other', 'c2');
    api.setResource(dev, 'job/config.yaml', 'v2', 'c3');
    return api;
  }

  function read(api: FakeKeptnApi, uri: string, commit?: string): Promise<Response> {
    const query = commit === undefined ? '' : `?gitCommitID=${encodeURIComponent(commit)}`;
    return get(api, `${stageUrl(api.directResourceServiceUrl, encodeURIComponent(uri))}${query}`);
  }

  async function readContent(api: FakeKeptnApi, uri: string, commit?: string): Promise<[string, string]> {
    const response = await read(api, uri, commit);
    assert.equal(response.status, 200);
    const body = await json<ResourceBody>(response);
    return [Buffer.from(body.resourceContent, 'base64').toString(), body.metadata.version];
  }

  void it('reads the newest version whose commit is not after the requested one', async (t) => {
    const api = await withHistory(t);
    assert.deepEqual(api.commits, ['c1', 'c2', 'c3']);
    assert.deepEqual(await readContent(api, 'job/config.yaml', 'c1'), ['v1', 'c1']);
    assert.deepEqual(await readContent(api, 'job/config.yaml', 'c2'), ['v1', 'c2']);
    assert.deepEqual(await readContent(api, 'job/config.yaml', 'c3'), ['v2', 'c3']);
  });

  void it('without gitCommitID (or with an empty or "" one) reads the newest version at the branch head', async (t) => {
    const api = await withHistory(t);
    api.setResource({ project: 'sockshop', stage: 'prod' }, 'job/config.yaml', 'prod', 'c4');
    assert.deepEqual(await readContent(api, 'job/config.yaml'), ['v2', 'c3']);
    assert.deepEqual(await readContent(api, 'job/config.yaml', ''), ['v2', 'c3']);
    assert.deepEqual(await readContent(api, 'job/config.yaml', '""'), ['v2', 'c3']);
  });

  void it('answers Resource not found for an unknown commit, or a file that did not exist yet', async (t) => {
    const api = await withHistory(t);
    await expectApiError(await read(api, 'job/config.yaml', 'deadbeef'), 404, 'Resource not found');
    await expectApiError(await read(api, 'other.yaml', 'c1'), 404, 'Resource not found');
    assert.equal((await read(api, 'other.yaml', 'c2')).status, 200);
  });

  void it('generates 40-hex commits, lets the newest commit hold several files, and refuses rewriting history', async (t) => {
    const api = await start(t);
    api.setResource(dev, 'a.yaml', 'a');
    const first = api.commits.at(-1)!;
    assert.match(first, /^[0-9a-f]{40}$/);
    api.setResource(dev, 'b.yaml', 'b', first);
    api.setResource(dev, 'a.yaml', 'a2', first);
    assert.equal(api.commits.length, 1);
    assert.deepEqual(await readContent(api, 'a.yaml', first), ['a2', first]);
    api.setResource(dev, 'c.yaml', 'c');
    assert.equal(api.commits.length, 2);
    assert.throws(() => {
      api.setResource(dev, 'd.yaml', 'd', first);
    }, /older than the newest commit/);
  });
});

void describe('fake Keptn API: resource listing', () => {
  const dev = { project: 'sockshop', stage: 'dev' };

  function list(api: FakeKeptnApi, path: string, query = ''): Promise<Response> {
    return get(api, `${api.gatewayResourceServiceUrl}/v1/project/sockshop${path}/resource${query}`);
  }

  void it('lists the files of exactly that level with a leading "/", in walk order', async (t) => {
    const api = await start(t);
    api.setResource({ project: 'sockshop' }, 'shipyard.yaml', 's');
    api.setResource(dev, 'terraform/main.tf', 'm', 'c1');
    api.setResource(dev, 'terraform.txt', 't');
    api.setResource(dev, 'a.yaml', 'a');
    api.setResource({ ...dev, service: 'carts' }, 'job/config.yaml', 'j');
    const response = await list(api, '/stage/dev');
    assert.equal(response.status, 200);
    const body = await json<ResourceListBody>(response);
    assert.deepEqual(
      body.resources.map((resource) => resource.resourceURI),
      ['/a.yaml', '/terraform/main.tf', '/terraform.txt'],
    );
    assert.equal(body.totalCount, 3);
    assert.equal(body.nextPageKey, '0');
    assert.equal(body.pageSize, 20);
    assert.deepEqual(body.resources[0]?.metadata, {
      upstreamURL: FAKE_UPSTREAM_URL,
      version: api.commits.at(-1), // the head of branch dev: the carts file lives on it too
      branch: 'dev',
    });
    const service = await json<ResourceListBody>(await list(api, '/stage/dev/service/carts'));
    assert.deepEqual(
      service.resources.map((resource) => resource.resourceURI),
      ['/job/config.yaml'],
    );
    const project = await json<ResourceListBody>(await list(api, ''));
    assert.deepEqual(
      project.resources.map((resource) => resource.resourceURI),
      ['/shipyard.yaml'],
    );
  });

  void it('paginates for real with pageSize / nextPageKey, ending with nextPageKey "0"', async (t) => {
    const api = await start(t);
    for (let i = 0; i < 5; i += 1) api.setResource(dev, `file-${String(i)}.yaml`, String(i));
    const seen: string[] = [];
    const keys: string[] = [];
    let nextPageKey = '';
    do {
      const query = `?pageSize=2${nextPageKey === '' ? '' : `&nextPageKey=${nextPageKey}`}`;
      const body = await json<ResourceListBody>(await list(api, '/stage/dev', query));
      assert.equal(body.totalCount, 5);
      assert.equal(body.pageSize, 2);
      assert.ok(body.resources.length <= 2);
      seen.push(...body.resources.map((resource) => resource.resourceURI));
      nextPageKey = body.nextPageKey;
      keys.push(nextPageKey);
    } while (nextPageKey !== '0');
    assert.deepEqual(keys, ['2', '4', '0']);
    assert.deepEqual(seen, ['/file-0.yaml', '/file-1.yaml', '/file-2.yaml', '/file-3.yaml', '/file-4.yaml']);
  });

  void it('defaults pageSize to 20', async (t) => {
    const api = await start(t);
    for (let i = 10; i < 35; i += 1) api.setResource(dev, `f${String(i)}`, 'x');
    const first = await json<ResourceListBody>(await list(api, '/stage/dev'));
    assert.equal(first.resources.length, 20);
    assert.equal(first.nextPageKey, '20');
    assert.equal(first.totalCount, 25);
    const second = await json<ResourceListBody>(await list(api, '/stage/dev', '?nextPageKey=20'));
    assert.equal(second.resources.length, 5);
    assert.equal(second.nextPageKey, '0');
  });

  void it('lists only the files that exist at gitCommitID', async (t) => {
    const api = await start(t);
    api.setResource(dev, 'old.yaml', 'x', 'c1');
    api.setResource(dev, 'new.yaml', 'x', 'c2');
    const atC1 = await json<ResourceListBody>(await list(api, '/stage/dev', '?gitCommitID=c1'));
    assert.deepEqual(
      atC1.resources.map((resource) => [resource.resourceURI, resource.metadata.version]),
      [['/old.yaml', 'c1']],
    );
    const now = await json<ResourceListBody>(await list(api, '/stage/dev'));
    assert.equal(now.totalCount, 2);
    await expectApiError(await list(api, '/stage/dev', '?gitCommitID=nope'), 404, 'Resource not found');
    await expectApiError(await list(api, '/stage/dev', '?pageSize=0'), 400);
  });
});

void describe('fake Keptn API: request log', () => {
  void it('records every resource request with method, raw path, query and status', async (t) => {
    const api = await start(t);
    api.setResource({ project: 'p', stage: 'dev', service: 'svc' }, 'job/config.yaml', 'x', 'abc');
    const svc = `${api.gatewayResourceServiceUrl}/v1/project/p/stage/dev/service/svc/resource/job%252Fconfig.yaml`;
    const stage = `${api.gatewayResourceServiceUrl}/v1/project/p/stage/dev/resource/job%252Fconfig.yaml`;
    await get(api, `${svc}?gitCommitID=abc`);
    await get(api, `${stage}?gitCommitID=abc`);
    await get(api, `${api.directResourceServiceUrl}/v1/project/p/resource/x`, 'bad');
    await postEvent(api, startedEvent());
    assert.deepEqual(api.resourceRequests, [
      {
        method: 'GET',
        rawPath: '/api/resource-service/v1/project/p/stage/dev/service/svc/resource/job%252Fconfig.yaml',
        query: { gitCommitID: 'abc' },
        status: 200,
      },
      {
        method: 'GET',
        rawPath: '/api/resource-service/v1/project/p/stage/dev/resource/job%252Fconfig.yaml',
        query: { gitCommitID: 'abc' },
        status: 404,
      },
      { method: 'GET', rawPath: '/resource-service/v1/project/p/resource/x', query: {}, status: 401 },
    ]);
  });
});

void describe('fake Keptn API: event API', () => {
  void it('accepts a valid .started, answers the keptnContext and replaces the id', async (t) => {
    const api = await start(t);
    const before = Date.now();
    const response = await postEvent(api, startedEvent());
    assert.equal(response.status, 200);
    assert.deepEqual(await json<unknown>(response), { keptnContext: KEPTN_CONTEXT });
    assert.equal(api.events.length, 1);
    const [recorded] = api.events;
    assert.ok(recorded);
    assert.equal(recorded.originalId, 'sender-id-1');
    assert.match(recorded.assignedId, UUID);
    assert.notEqual(recorded.assignedId, recorded.originalId);
    assert.deepEqual(recorded.body, startedEvent());
    assert.ok(recorded.receivedAt.getTime() >= before);
    assert.equal(recorded.headers['content-type'], 'application/json');
    assert.equal(recorded.headers['x-token'], api.token);
  });

  void it('assigns a new id on every post, even for a repeated sender id', async (t) => {
    const api = await start(t);
    await postEvent(api, startedEvent());
    await postEvent(api, startedEvent());
    const [first, second] = api.events;
    assert.equal(first?.originalId, second?.originalId);
    assert.notEqual(first?.assignedId, second?.assignedId);
  });

  void it('generates a keptnContext when absent and derives a deterministic UUID from a non-UUID one', async (t) => {
    const api = await start(t);
    const generated = await json<{ keptnContext: string }>(
      await postEvent(api, startedEvent({ shkeptncontext: undefined })),
    );
    assert.match(generated.keptnContext, UUID);
    const derived = await json<{ keptnContext: string }>(
      await postEvent(api, startedEvent({ shkeptncontext: 'my-context' })),
    );
    assert.match(derived.keptnContext, UUID);
    assert.equal(derived.keptnContext, keptnContextFor('my-context'));
    // 'my-context      ' (padded to 16) as bytes, with the v4 and RFC 4122 variant bits set.
    assert.equal(derived.keptnContext, '6d792d63-6f6e-4465-b874-202020202020');
  });

  void it('accepts application/cloudevents+json and refuses other media types with 415', async (t) => {
    const api = await start(t);
    assert.equal(
      (await postEvent(api, startedEvent(), { contentType: 'application/cloudevents+json; charset=utf-8' }))
        .status,
      200,
    );
    await expectApiError(
      await postEvent(api, startedEvent(), { contentType: 'text/plain' }),
      415,
      /unsupported media type "text\/plain"/,
    );
    assert.equal(api.events.length, 1);
    assert.equal(api.rejectedEvents[0]?.status, 415);
  });

  void it('answers 405 for other methods on /api/v1/event', async (t) => {
    const api = await start(t);
    await expectApiError(await get(api, `${api.apiUrl}/v1/event`), 405);
  });

  const invalid: [string, Record<string, unknown>, number, string][] = [
    [
      'task .triggered',
      startedEvent({ type: 'sh.keptn.event.test.triggered' }),
      400,
      'unknown event type action: triggered',
    ],
    [
      'task .status.changed (parses as a sequence type)',
      startedEvent({ type: 'sh.keptn.event.test.status.changed' }),
      400,
      'unknown event type action: changed',
    ],
    [
      'a sequence .finished',
      startedEvent({ type: 'sh.keptn.event.dev.delivery.finished' }),
      400,
      'unknown event type action: finished',
    ],
    ['a foreign type', startedEvent({ type: 'com.example.started' }), 400, 'unknown event type'],
    ['too few parts', startedEvent({ type: 'sh.keptn.event.started' }), 400, 'unknown event type'],
    [
      '.started without triggeredid',
      startedEvent({ triggeredid: undefined }),
      400,
      "mandatory field 'triggeredid' missing",
    ],
    [
      '.started without data.service',
      startedEvent({ data: { project: 'sockshop', stage: 'dev' } }),
      400,
      "mandatory field(s) 'project', 'stage' or 'service' missing",
    ],
    [
      '.started with non-object data',
      startedEvent({ data: 'sockshop' }),
      400,
      'could not parse common event data',
    ],
    [
      '.started with a numeric data.project',
      startedEvent({ data: { project: 1, stage: 'dev', service: 'carts' } }),
      400,
      'could not parse common event data',
    ],
    ['.finished without result', finishedEvent({ result: '' }), 400, 'result field is not set'],
    ['.finished without status', finishedEvent({ status: undefined }), 400, 'status field is not set'],
    [
      '.finished without triggeredid',
      { ...finishedEvent(), triggeredid: '' },
      400,
      "mandatory field 'triggeredid' missing",
    ],
    [
      'sequence .triggered whose stage does not match',
      startedEvent({ type: 'sh.keptn.event.prod.delivery.triggered', triggeredid: undefined }),
      400,
      'stage name in event data and in event type does not match',
    ],
    [
      'no type (swagger required)',
      startedEvent({ type: undefined }),
      422,
      'validation failure list:\ntype in body is required',
    ],
    [
      'no data and no source (swagger required)',
      startedEvent({ data: undefined, source: null }),
      422,
      'validation failure list:\ndata in body is required\nsource in body is required',
    ],
    [
      'a numeric id (Go binding)',
      startedEvent({ id: 42 }),
      400,
      'parsing body body from "" failed, because json: cannot unmarshal number into Go struct field KeptnContextExtendedCE.id of type string',
    ],
  ];

  for (const [name, event, status, message] of invalid) {
    void it(`rejects ${name} with ${String(status)} and records it`, async (t) => {
      const api = await start(t);
      await expectApiError(await postEvent(api, event), status, message);
      assert.equal(api.events.length, 0);
      assert.deepEqual(api.rejectedEvents, [
        { status, message, body: JSON.parse(JSON.stringify(event)) as unknown },
      ]);
    });
  }

  void it('rejects a body that is not JSON with 400 and records the raw text', async (t) => {
    const api = await start(t);
    await expectApiError(
      await postEvent(api, '{not json'),
      400,
      /^parsing body body from "" failed, because /,
    );
    assert.equal(api.rejectedEvents[0]?.body, '{not json');
  });

  const valid: [string, Record<string, unknown>][] = [
    ['a .finished', finishedEvent()],
    ['a .finished with result fail / status errored', finishedEvent({ result: 'fail', status: 'errored' })],
    ['an .invalidated', startedEvent({ type: 'sh.keptn.event.test.invalidated', data: {} })],
    [
      'a sequence .triggered',
      startedEvent({ type: 'sh.keptn.event.dev.delivery.triggered', triggeredid: undefined }),
    ],
    ['sh.keptn.log.error', startedEvent({ type: 'sh.keptn.log.error', data: { message: 'boom' } })],
  ];

  for (const [name, event] of valid) {
    void it(`accepts ${name}`, async (t) => {
      const api = await start(t);
      const response = await postEvent(api, event);
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(api.eventsOfType(String(event.type)).length, 1);
      assert.equal(api.rejectedEvents.length, 0);
    });
  }

  void it('limits the body to maxEventSizeKb * 1024 bytes with a 400 (64 KB by default)', async (t) => {
    const api = await start(t);
    assert.equal((await postEvent(api, finishedEventOfSize(64 * 1024))).status, 200);
    await expectApiError(
      await postEvent(api, finishedEventOfSize(64 * 1024 + 1)),
      400,
      /request body too large.*event too large: 65537 bytes, MAX_EVENT_SIZE_KB=64 allows 65536/,
    );
    assert.equal(api.events.length, 1);
    assert.equal(api.rejectedEvents.length, 1);
    const small = await start(t, { maxEventSizeKb: 1 });
    assert.equal((await postEvent(small, finishedEventOfSize(1024))).status, 200);
    await expectApiError(await postEvent(small, finishedEventOfSize(1025)), 400, /too large/);
  });

  void it('with eventValidation off (before 0.19) forwards any type and any size, but still needs the swagger fields', async (t) => {
    const api = await start(t, { eventValidation: false });
    assert.equal((await postEvent(api, startedEvent({ type: 'sh.keptn.event.test.triggered' }))).status, 200);
    assert.equal((await postEvent(api, startedEvent({ triggeredid: undefined, data: {} }))).status, 200);
    assert.equal((await postEvent(api, finishedEventOfSize(200 * 1024))).status, 200);
    await expectApiError(await postEvent(api, startedEvent({ source: undefined })), 422);
    assert.equal(api.events.length, 3);
  });

  void it('eventsOfType filters the accepted events', async (t) => {
    const api = await start(t);
    await postEvent(api, startedEvent());
    await postEvent(api, finishedEvent());
    await postEvent(api, startedEvent({ id: 'sender-id-2' }));
    assert.deepEqual(
      api.eventsOfType('sh.keptn.event.test.started').map((event) => event.originalId),
      ['sender-id-1', 'sender-id-2'],
    );
    assert.equal(api.eventsOfType('sh.keptn.event.test.finished').length, 1);
    assert.equal(api.eventsOfType('sh.keptn.event.other.finished').length, 0);
  });
});

void describe('fake Keptn API: failure injection', () => {
  void it('failNext("event") answers the injected status N times, before auth, then recovers', async (t) => {
    const api = await start(t);
    api.failNext('event', 503, 2);
    await expectApiError(await postEvent(api, startedEvent()), 503, 'injected failure');
    await expectApiError(await postEvent(api, startedEvent(), { token: 'wrong' }), 503, 'injected failure');
    assert.equal((await postEvent(api, startedEvent())).status, 200);
    assert.equal(api.events.length, 1);
    assert.equal(api.rejectedEvents.length, 0);
  });

  void it('failNext("resource") affects only resource requests, defaults to one, and queues up', async (t) => {
    const api = await start(t);
    api.setResource({ project: 'p' }, 'a.yaml', 'a');
    const url = `${api.directResourceServiceUrl}/v1/project/p/resource/a.yaml`;
    api.failNext('resource', 500);
    api.failNext('resource', 429);
    assert.equal((await postEvent(api, startedEvent())).status, 200);
    await expectApiError(await get(api, url), 500, 'injected failure');
    await expectApiError(await get(api, url, null), 429, 'injected failure');
    assert.equal((await get(api, url)).status, 200);
    assert.deepEqual(
      api.resourceRequests.map((request) => request.status),
      [500, 429, 200],
    );
  });

  void it('refuses nonsense statuses and counts', async (t) => {
    const api = await start(t);
    assert.throws(() => {
      api.failNext('event', 42);
    }, RangeError);
    assert.throws(() => {
      api.failNext('event', 500, 0);
    }, RangeError);
  });

  void it('setDown(true) destroys every socket (fetch fails), setDown(false) recovers', async (t) => {
    const api = await start(t);
    api.setResource({ project: 'p' }, 'a.yaml', 'a');
    const url = `${api.gatewayResourceServiceUrl}/v1/project/p/resource/a.yaml`;
    assert.equal((await get(api, url)).status, 200);
    api.setDown(true);
    const networkError = (error: unknown): boolean => {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, 'fetch failed');
      const cause: unknown = error.cause;
      const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
      assert.ok(code === 'ECONNRESET' || code === 'UND_ERR_SOCKET', `unexpected cause code ${String(code)}`);
      return true;
    };
    await assert.rejects(get(api, url), networkError);
    await assert.rejects(postEvent(api, startedEvent()), networkError);
    assert.equal(api.events.length, 0);
    api.setDown(false);
    assert.equal((await get(api, url)).status, 200);
    assert.equal((await postEvent(api, startedEvent())).status, 200);
    assert.deepEqual(
      api.resourceRequests.map((request) => request.status),
      [200, 0, 200],
    );
  });
});
