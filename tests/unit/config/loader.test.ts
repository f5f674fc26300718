import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONFIG_URI,
  createConfigLoader,
  type ConfigCacheOptions,
  type ConfigLookup,
} from '../../../lib/config/loader.js';
import type {
  Resource,
  ResourceLevel,
  ResourceScope,
  ResourceStore,
} from '../../../lib/config/resource-store.js';
import { jesError } from '../../../lib/errors/index.js';
import { scope } from '../../helpers/factories.js';

const VALID = (image: string) => `apiVersion: v2
actions:
  - name: a
    events: [{ name: sh.keptn.event.test.triggered }]
    tasks: [{ name: t, image: ${image} }]
`;

/** An in-memory ResourceStore: files per level, every read recorded, failures on demand. */
class MemoryStore implements ResourceStore {
  readonly description = 'memory';
  readonly reads: string[] = [];
  failure: Error | undefined;
  private readonly files = new Map<string, Resource>();

  private static key(level: ResourceLevel, at: ResourceScope, uri: string): string {
    const where =
      level === 'project'
        ? [at.project]
        : level === 'stage'
          ? [at.project, at.stage]
          : [at.project, at.stage, at.service];
    return `${level}:${where.join('/')}:${uri}`;
  }

  put(level: ResourceLevel, at: ResourceScope, content: string, commit?: string): this {
    this.files.set(MemoryStore.key(level, at, CONFIG_URI), { content: Buffer.from(content), commit });
    return this;
  }

  remove(level: ResourceLevel, at: ResourceScope): void {
    this.files.delete(MemoryStore.key(level, at, CONFIG_URI));
  }

  read(level: ResourceLevel, at: ResourceScope, uri: string): Promise<Resource | undefined> {
    this.reads.push(`${level}:${at.project}/${at.stage}/${at.service}@${at.commit ?? '-'}:${uri}`);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return Promise.resolve(this.files.get(MemoryStore.key(level, at, uri)));
  }

  list(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

function loaderFor(store: ResourceStore, options: Partial<ConfigCacheOptions> = {}) {
  const clock = fakeClock();
  const loader = createConfigLoader(store, { ttlSeconds: 30, maxEntries: 100, now: clock.now, ...options });
  return { loader, clock };
}

function imageOf(lookup: ConfigLookup): string | undefined {
  return lookup.kind === 'found' ? lookup.loaded.config.actions[0]?.tasks[0]?.image : undefined;
}

void describe('createConfigLoader: lookup order', () => {
  void it('takes the service level first, never merging levels', async () => {
    const store = new MemoryStore()
      .put('service', scope(), VALID('service-image'), 'c-service')
      .put('stage', scope(), VALID('stage-image'))
      .put('project', scope(), VALID('project-image'));
    const lookup = await loaderFor(store).loader.load(scope());
    assert.equal(lookup.kind, 'found');
    assert.equal(imageOf(lookup), 'service-image');
    assert.equal(lookup.loaded.origin, 'job/config.yaml at service level (sockshop/dev/carts) in memory');
    assert.equal(lookup.loaded.commit, 'c-service');
    assert.deepEqual(store.reads, ['service:sockshop/dev/carts@-:job/config.yaml']);
  });

  void it('falls back to the stage level, then the project level', async () => {
    const store = new MemoryStore()
      .put('stage', scope(), VALID('stage-image'))
      .put('project', scope(), VALID('project-image'));
    const first = await loaderFor(store).loader.load(scope());
    assert.equal(imageOf(first), 'stage-image');
    assert.ok(first.kind === 'found');
    assert.equal(first.loaded.origin, 'job/config.yaml at stage level (sockshop/dev/carts) in memory');

    store.remove('stage', scope());
    store.reads.length = 0;
    const second = await loaderFor(store).loader.load(scope({ commit: 'abc' }));
    assert.equal(imageOf(second), 'project-image');
    assert.ok(second.kind === 'found');
    assert.equal(second.loaded.origin, 'job/config.yaml at project level (sockshop/dev/carts) in memory');
    assert.equal(second.loaded.commit, undefined);
    assert.deepEqual(store.reads, [
      'service:sockshop/dev/carts@abc:job/config.yaml',
      'stage:sockshop/dev/carts@abc:job/config.yaml',
      'project:sockshop/dev/carts@abc:job/config.yaml',
    ]);
  });

  void it('reports a config found at no level as missing', async () => {
    const store = new MemoryStore().put('service', scope({ service: 'other' }), VALID('x'));
    const lookup = await loaderFor(store).loader.load(scope());
    assert.equal(lookup.kind, 'missing');
    assert.equal(lookup.error.code, 'JES_ERR_CONFIG_NOT_FOUND');
    assert.equal(
      lookup.error.message,
      'No job/config.yaml for sockshop/dev/carts at service, stage or project level in memory',
    );
    assert.equal(store.reads.length, 3);
  });

  void it('names the commit when a lookup at a commit finds nothing', async () => {
    const lookup = await loaderFor(new MemoryStore()).loader.load(scope({ commit: 'abc123' }));
    assert.ok(lookup.kind === 'missing');
    assert.equal(
      lookup.error.message,
      'No job/config.yaml for sockshop/dev/carts at commit abc123 at service, stage or project level in memory',
    );
  });

  void it('reports an invalid config at the first level with its issues, without falling back', async () => {
    const store = new MemoryStore()
      .put('service', scope(), 'apiVersion: v1\nactions: []\n')
      .put('project', scope(), VALID('p'));
    const lookup = await loaderFor(store).loader.load(scope());
    assert.equal(lookup.kind, 'invalid');
    assert.equal(lookup.error.code, 'JES_ERR_CONFIG_INVALID');
    assert.equal(
      lookup.error.message,
      'Invalid job config job/config.yaml at service level (sockshop/dev/carts) in memory: 2 problem(s)',
    );
    assert.deepEqual(lookup.error.issues, [
      { path: 'apiVersion', message: `expected 'v2', got string "v1" (line 1)` },
      { path: 'actions', message: 'must have at least 1 item(s) (line 2)' },
    ]);
    assert.equal(store.reads.length, 1);
  });

  void it('passes a store failure on', async () => {
    const store = new MemoryStore();
    store.failure = jesError('CONFIG_SOURCE_UNAVAILABLE', 'down');
    await assert.rejects(loaderFor(store).loader.load(scope()), {
      code: 'JES_ERR_CONFIG_SOURCE_UNAVAILABLE',
      message: 'down',
    });
  });
});

void describe('createConfigLoader: cache', () => {
  void it('serves a lookup from the cache until its TTL has passed', async () => {
    const store = new MemoryStore().put('service', scope(), VALID('v1'));
    const { loader, clock } = loaderFor(store, { ttlSeconds: 30 });
    assert.equal(imageOf(await loader.load(scope())), 'v1');
    store.put('service', scope(), VALID('v2'));
    clock.advance(29_999);
    assert.equal(imageOf(await loader.load(scope())), 'v1');
    assert.equal(store.reads.length, 1);
    clock.advance(1);
    assert.equal(imageOf(await loader.load(scope())), 'v2');
    assert.equal(store.reads.length, 2);
  });

  void it('caches missing and invalid outcomes too', async () => {
    const store = new MemoryStore();
    const { loader } = loaderFor(store);
    assert.equal((await loader.load(scope())).kind, 'missing');
    assert.equal((await loader.load(scope())).kind, 'missing');
    assert.equal(store.reads.length, 3);

    const invalid = new MemoryStore().put('service', scope(), 'apiVersion: v2\n');
    const second = loaderFor(invalid).loader;
    assert.equal((await second.load(scope())).kind, 'invalid');
    assert.equal((await second.load(scope())).kind, 'invalid');
    assert.equal(invalid.reads.length, 1);
  });

  void it('does not cache a store failure: the next load tries again', async () => {
    const store = new MemoryStore().put('service', scope(), VALID('v1'));
    const { loader } = loaderFor(store);
    store.failure = new Error('connection refused');
    await assert.rejects(loader.load(scope()), /connection refused/);
    store.failure = undefined;
    assert.equal(imageOf(await loader.load(scope())), 'v1');
    assert.equal(store.reads.length, 2);
  });

  void it('keeps a lookup at a commit for good', async () => {
    const store = new MemoryStore().put('service', scope(), VALID('v1'));
    const { loader, clock } = loaderFor(store, { ttlSeconds: 30 });
    assert.equal(imageOf(await loader.load(scope({ commit: 'abc' }))), 'v1');
    store.put('service', scope(), VALID('v2'));
    clock.advance(365 * 24 * 3600 * 1000);
    assert.equal(imageOf(await loader.load(scope({ commit: 'abc' }))), 'v1');
    assert.equal(store.reads.length, 1);
    assert.equal(imageOf(await loader.load(scope({ commit: 'def' }))), 'v2');
  });

  void it('keeps one entry per project, stage, service and commit', async () => {
    const store = new MemoryStore()
      .put('project', scope(), VALID('v1'))
      .put('project', scope({ project: 'other' }), VALID('v1'));
    const { loader } = loaderFor(store);
    const scopes = [
      scope(),
      scope({ project: 'other' }),
      scope({ stage: 'prod' }),
      scope({ service: 'orders' }),
      scope({ commit: 'abc' }),
    ];
    for (const at of scopes) await loader.load(at);
    const readsAfterFirstPass = store.reads.length;
    assert.equal(readsAfterFirstPass, 15);
    for (const at of scopes) await loader.load(at);
    assert.equal(store.reads.length, readsAfterFirstPass);
  });

  void it('caches nothing with a TTL of 0', async () => {
    const store = new MemoryStore().put('service', scope(), VALID('v1'));
    const { loader } = loaderFor(store, { ttlSeconds: 0 });
    await loader.load(scope());
    await loader.load(scope());
    assert.equal(store.reads.length, 2);
  });

  void it('evicts the oldest entry beyond maxEntries', async () => {
    const store = new MemoryStore()
      .put('service', scope({ service: 'a' }), VALID('a'))
      .put('service', scope({ service: 'b' }), VALID('b'))
      .put('service', scope({ service: 'c' }), VALID('c'));
    const { loader } = loaderFor(store, { maxEntries: 2 });
    for (const service of ['a', 'b', 'c']) await loader.load(scope({ service }));
    assert.equal(store.reads.length, 3);
    await loader.load(scope({ service: 'b' }));
    await loader.load(scope({ service: 'c' }));
    assert.equal(store.reads.length, 3, 'b and c are still cached');
    await loader.load(scope({ service: 'a' }));
    assert.equal(store.reads.length, 4, 'a was evicted');
  });

  void it('uses Date.now without a clock', async () => {
    const store = new MemoryStore().put('service', scope(), VALID('v1'));
    const loader = createConfigLoader(store, { ttlSeconds: 60, maxEntries: 10 });
    await loader.load(scope());
    await loader.load(scope());
    assert.equal(store.reads.length, 1);
  });
});
