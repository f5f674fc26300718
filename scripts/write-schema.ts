// Writes the JSON Schema of job/config.yaml for editors, from the one TypeBox source (lib/config/schema.ts).
// A unit test fails when the committed file drifts from the source: run `npm run schema` after changing it.
import { mkdir, writeFile } from 'node:fs/promises';
import { JobConfigSchema } from '../lib/config/schema.js';

await mkdir('schema', { recursive: true });
await writeFile('schema/job-config.schema.json', `${JSON.stringify(JobConfigSchema, null, 2)}\n`);
