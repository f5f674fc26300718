import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJesError } from '../../../lib/errors/index.js';
import { loadInitInputs } from '../../../lib/settings/index.js';

const base = { KEPTN_PROJECT: 'p', KEPTN_STAGE: 'dev', KEPTN_SERVICE: 's' };

void describe('loadInitInputs', () => {
  void it('reads what the Job builder writes, with defaults', () => {
    assert.deepEqual(loadInitInputs({ ...base, JES_FILES: '["a/","b.txt"]', GIT_COMMIT_ID: 'c1' }), {
      files: ['a/', 'b.txt'],
      eventJson: '{}',
      workspace: '/keptn',
      scope: { project: 'p', stage: 'dev', service: 's', commit: 'c1' },
    });
    assert.equal(loadInitInputs({ ...base, GIT_COMMIT_ID: '' }).scope.commit, undefined);
  });

  void it('names each missing or malformed input', () => {
    const cases: [Record<string, string>, string][] = [
      [{ ...base, KEPTN_PROJECT: '' }, 'KEPTN_PROJECT'],
      [{ ...base, JES_FILES: 'terraform/' }, 'JES_FILES'],
      [{ ...base, JES_FILES: '[1]' }, 'JES_FILES'],
      [{ KEPTN_STAGE: 'dev', KEPTN_SERVICE: 's' }, 'KEPTN_PROJECT'],
    ];
    for (const [env, path] of cases) {
      assert.throws(
        () => loadInitInputs(env),
        (error: unknown) =>
          isJesError(error, 'SETTINGS_INVALID') && error.issues.some((issue) => issue.path === path),
        path,
      );
    }
  });
});
