import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../../lib/errors/index.js';
import { SETTINGS_VARIABLES } from '../../../lib/settings/index.js';

/** The docs that travel with the code stay complete: every error code and every setting is documented. */

const root = resolve(import.meta.dirname, '../../..');

void describe('documentation drift', () => {
  void it('docs/errors.md lists every error code with its status', async () => {
    const doc = await readFile(resolve(root, 'docs/errors.md'), 'utf8');
    for (const { code, statusCode } of Object.values(ErrorCodes)) {
      assert.match(doc, new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${statusCode}\\s*\\|`), `${code} missing`);
    }
  });

  void it('the README configuration reference names every setting', async () => {
    const readme = await readFile(resolve(root, 'README.md'), 'utf8');
    for (const variable of SETTINGS_VARIABLES) {
      const documented = readme.includes(`\`${variable}\``) || variable.startsWith('DEFAULT_RESOURCE_');
      assert.ok(documented, `${variable} is not in the README's configuration reference`);
    }
  });
});
