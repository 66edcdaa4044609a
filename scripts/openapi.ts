/**
 * `make openapi`: writes the OpenAPI 3.1 documents of the shop's declared APIs to docs/api/ (`<service>.json`
 * per service, `public.json` for the front door), from services/apis.ts.
 * With --check, exits 1 when a committed document is stale or extra, instead of writing.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiDocuments } from '../services/apis.js';

const dir = fileURLToPath(new URL('../docs/api/', import.meta.url));
const { services, public: front } = apiDocuments();
const wanted = new Map<string, string>([
  ...Object.entries(services).map(([name, doc]): [string, string] => [`${name}.json`, serialize(doc)]),
  ['public.json', serialize(front)],
]);

function serialize(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const present = (() => {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
})();

if (process.argv.includes('--check')) {
  const stale = [...wanted].filter(([file, text]) => {
    try {
      return readFileSync(`${dir}${file}`, 'utf8') !== text;
    } catch {
      return true;
    }
  });
  const extra = present.filter((f) => !wanted.has(f));
  if (stale.length + extra.length > 0) {
    console.error(
      `docs/api is stale (${[...stale.map(([f]) => f), ...extra.map((f) => `${f} (no such API)`)].join(', ')}): ` +
        'run `make openapi` and commit it',
    );
    process.exit(1);
  }
  console.log(`docs/api is up to date (${wanted.size} documents)`);
} else {
  mkdirSync(dir, { recursive: true });
  for (const file of present) if (!wanted.has(file)) rmSync(`${dir}${file}`);
  for (const [file, text] of wanted) writeFileSync(`${dir}${file}`, text);
  console.log(`wrote ${[...wanted.keys()].map((f) => `docs/api/${f}`).join(', ')}`);
}
