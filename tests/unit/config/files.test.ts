import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDirectoryStore } from '../../../lib/config/directory-store.js';
import { fetchTaskFiles, type FetchedFile } from '../../../lib/config/files.js';
import type { ResourceStore } from '../../../lib/config/resource-store.js';
import { isJesError } from '../../../lib/errors/index.js';
import { scope } from '../../helpers/factories.js';
import { tempDir, writeTree } from '../../helpers/fs.js';

function summary(files: readonly FetchedFile[]): [path: string, level: string, content: string][] {
  return files.map((file) => [file.path, file.level, file.content.toString('utf8')]);
}

void describe('fetchTaskFiles', () => {
  let root = '';
  let remove: () => Promise<void> = () => Promise.resolve();
  let store: ResourceStore;

  before(async () => {
    ({ path: root, remove } = await tempDir('jes-files-'));
    await writeTree(root, {
      'sockshop/common.sh': 'project common',
      'sockshop/only-project.txt': 'project only',
      'sockshop/locust/project.py': 'project locust',
      'sockshop/dev/common.sh': 'stage common',
      'sockshop/dev/only-stage.txt': 'stage only',
      'sockshop/dev/terraform/main.tf': 'stage tf',
      'sockshop/dev/terraform/modules/vpc.tf': 'stage vpc',
      'sockshop/dev/carts/common.sh': 'service common',
      'sockshop/dev/carts/locust/basic.py': 'service basic',
      'sockshop/dev/carts/locust/conf/locust.conf': 'service conf',
    });
    store = createDirectoryStore(root);
  });

  after(async () => {
    await remove();
  });

  void it('fetches nothing for no entries', async () => {
    assert.deepEqual(await fetchTaskFiles(store, scope(), []), []);
  });

  void it('fetches an exact file from the first level that has it', async () => {
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['common.sh'])), [
      ['common.sh', 'service', 'service common'],
    ]);
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['only-stage.txt'])), [
      ['only-stage.txt', 'stage', 'stage only'],
    ]);
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['only-project.txt'])), [
      ['only-project.txt', 'project', 'project only'],
    ]);
  });

  void it('strips a leading / from an entry', async () => {
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['/common.sh'])), [
      ['common.sh', 'service', 'service common'],
    ]);
  });

  void it('fetches every file of a directory entry, with or without a trailing /', async () => {
    const expected: ReturnType<typeof summary> = [
      ['locust/basic.py', 'service', 'service basic'],
      ['locust/conf/locust.conf', 'service', 'service conf'],
    ];
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['locust/'])), expected);
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['locust'])), expected);
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['/locust/'])), expected);
  });

  void it('takes a directory from one level only (levels are never merged)', async () => {
    const files = summary(await fetchTaskFiles(store, scope(), ['locust/']));
    assert.equal(
      files.some(([path]) => path === 'locust/project.py'),
      false,
    );
    assert.deepEqual(summary(await fetchTaskFiles(store, scope(), ['terraform'])), [
      ['terraform/main.tf', 'stage', 'stage tf'],
      ['terraform/modules/vpc.tf', 'stage', 'stage vpc'],
    ]);
  });

  void it('looks each entry up on its own, keeping the entry order', async () => {
    assert.deepEqual(
      summary(await fetchTaskFiles(store, scope(), ['only-project.txt', 'locust/conf', 'common.sh'])),
      [
        ['only-project.txt', 'project', 'project only'],
        ['locust/conf/locust.conf', 'service', 'service conf'],
        ['common.sh', 'service', 'service common'],
      ],
    );
  });

  void it('uses the service of the scope', async () => {
    assert.deepEqual(
      summary(await fetchTaskFiles(store, scope({ service: 'orders' }), ['common.sh', 'locust/'])),
      [
        ['common.sh', 'stage', 'stage common'],
        ['locust/project.py', 'project', 'project locust'],
      ],
    );
  });

  const missing: [entry: string][] = [['missing.txt'], ['missing/'], ['common.sh/'], ['locust/basic.py/']];
  for (const [entry] of missing) {
    void it(`refuses ${JSON.stringify(entry)}, found at no level, naming it`, async () => {
      await assert.rejects(fetchTaskFiles(store, scope(), ['common.sh', entry]), (error: unknown) => {
        assert.ok(isJesError(error, 'RESOURCE_NOT_FOUND'));
        assert.equal(error.statusCode, 404);
        assert.equal(
          error.message,
          `files entry "${entry}" is neither a file nor a directory at service, stage or project level of sockshop/dev/carts in the directory ${root}`,
        );
        return true;
      });
    });
  }
});
