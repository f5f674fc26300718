import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { JobConfigSchema } from '../../../lib/config/schema.js';

const SCHEMA_FILE = new URL('../../../schema/job-config.schema.json', import.meta.url);

void describe('schema/job-config.schema.json', () => {
  void it('is exactly the TypeBox JobConfigSchema (run `npm run schema` after changing lib/config/schema.ts)', async () => {
    let text: string;
    try {
      text = await readFile(SCHEMA_FILE, 'utf8');
    } catch (error) {
      assert.fail(`schema/job-config.schema.json cannot be read (${String(error)}): run npm run schema`);
    }
    assert.equal(text, `${JSON.stringify(JobConfigSchema, null, 2)}\n`);
  });

  void it('is a JSON Schema that refuses unknown keys at the root and names its id', () => {
    assert.equal(JobConfigSchema.additionalProperties, false);
    assert.equal(JobConfigSchema.$id, 'https://jes.dev/schema/job-config.schema.json');
    assert.deepEqual(JobConfigSchema.required, ['apiVersion', 'actions']);
  });
});
