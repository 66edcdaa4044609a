/**
 * `make graph`: writes docs/system.md from the system model (services/system.ts).
 * With --check, exits 1 when the committed file is stale instead of writing it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { systemMarkdown } from '@flotilla/model';
import { shop } from '../services/system.js';

const target = fileURLToPath(new URL('../docs/system.md', import.meta.url));
const fresh = systemMarkdown(shop);
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== fresh) {
    console.error('docs/system.md is stale: run `make graph` and commit it');
    process.exit(1);
  }
  console.log('docs/system.md is up to date');
} else {
  writeFileSync(target, fresh);
  console.log(`wrote ${target}`);
}
