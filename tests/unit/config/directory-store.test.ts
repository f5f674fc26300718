import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDirectoryStore } from '../../../lib/config/directory-store.js';
import { scope } from '../../helpers/factories.js';
import { tempDir, writeTree } from '../../helpers/fs.js';

void describe('createDirectoryStore', () => {
  let root = '';
  let remove: () => Promise<void> = () => Promise.resolve();

  before(async () => {
    ({ path: root, remove } = await tempDir('jes-directory-store-'));
    await writeTree(root, {
      'sockshop/job/config.yaml': 'project',
      'sockshop/dev/job/config.yaml': 'stage',
      'sockshop/dev/carts/job/config.yaml': 'service',
      'sockshop/dev/carts/locust/basic.py': 'print(1)',
      'sockshop/dev/carts/locust/conf/locust.conf': 'users = 10',
      'sockshop/dev/carts/locust/conf/z/deep.txt': 'deep',
      'sockshop/dev/carts/locustfile.py': 'not in locust/',
      'sockshop/dev/orders/other.txt': 'other service',
    });
    await mkdir(join(root, 'sockshop/dev/carts/empty'), { recursive: true });
  });

  after(async () => {
    await remove();
  });

  void it('describes itself by its root', () => {
    assert.equal(createDirectoryStore(root).description, `the directory ${root}`);
  });

  void it('reads each level from its own directory', async () => {
    const store = createDirectoryStore(root);
    for (const [level, content] of [
      ['service', 'service'],
      ['stage', 'stage'],
      ['project', 'project'],
    ] as const) {
      const resource = await store.read(level, scope(), 'job/config.yaml');
      assert.deepEqual(resource, { content: Buffer.from(content), commit: undefined });
    }
  });

  void it('ignores the commit and strips leading slashes', async () => {
    const resource = await createDirectoryStore(root).read(
      'service',
      scope({ commit: 'abc' }),
      '//locust/basic.py',
    );
    assert.deepEqual(resource, { content: Buffer.from('print(1)'), commit: undefined });
  });

  void it('answers undefined for a missing file, a directory, or a path through a file', async () => {
    const store = createDirectoryStore(root);
    assert.equal(await store.read('service', scope(), 'missing.txt'), undefined);
    assert.equal(await store.read('service', scope({ service: 'nope' }), 'job/config.yaml'), undefined);
    assert.equal(await store.read('service', scope(), 'locust'), undefined);
    assert.equal(await store.read('service', scope(), 'locust/'), undefined);
    assert.equal(await store.read('service', scope(), 'locust/basic.py/x'), undefined);
    assert.equal(
      await createDirectoryStore(join(root, 'absent')).read('project', scope(), 'job/config.yaml'),
      undefined,
    );
  });

  void it('passes other file system errors on', async () => {
    await assert.rejects(createDirectoryStore(root).read('service', scope(), 'x'.repeat(300)), {
      code: 'ENAMETOOLONG',
    });
  });

  void it('lists every file under a directory, recursively, sorted, relative to the level', async () => {
    const store = createDirectoryStore(root);
    const expected = ['locust/basic.py', 'locust/conf/locust.conf', 'locust/conf/z/deep.txt'];
    assert.deepEqual(await store.list('service', scope(), 'locust/'), expected);
    assert.deepEqual(await store.list('service', scope(), '/locust/'), expected);
    assert.deepEqual(await store.list('service', scope(), 'locust/conf/'), [
      'locust/conf/locust.conf',
      'locust/conf/z/deep.txt',
    ]);
    assert.deepEqual(await store.list('stage', scope(), 'job/'), ['job/config.yaml']);
    assert.deepEqual(await store.list('stage', scope(), 'carts/locust/'), [
      'carts/locust/basic.py',
      'carts/locust/conf/locust.conf',
      'carts/locust/conf/z/deep.txt',
    ]);
  });

  void it('lists nothing for a missing directory, an empty one, or a file', async () => {
    const store = createDirectoryStore(root);
    assert.deepEqual(await store.list('service', scope(), 'missing/'), []);
    assert.deepEqual(await store.list('service', scope(), 'empty/'), []);
    assert.deepEqual(await store.list('service', scope(), 'locustfile.py/'), []);
    assert.deepEqual(await store.list('service', scope({ project: 'nope' }), 'locust/'), []);
  });
});
