// Runs every *.test.mjs here with node's test runner.
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o))).map((f) => join(here, f));
let failed = false;
const stream = run({ files, concurrency: 1 });
stream.on('test:fail', () => { failed = true; });
stream.compose(spec).pipe(process.stdout);
stream.on('end', () => { process.exitCode = failed ? 1 : 0; });
