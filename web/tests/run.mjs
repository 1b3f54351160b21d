// Runs every *.test.mjs here with node's test runner (or those whose names contain an
// argument); exits 1 if any test failed, not counting failing `todo` tests.
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
// A failing `todo` test is reported but does not fail the run (a known gap, named in it).
stream.on('test:fail', (ev) => { if (ev.todo === undefined || ev.todo === false) failed = true; });
stream.compose(spec).pipe(process.stdout);
stream.on('end', () => { process.exitCode = failed ? 1 : 0; });
