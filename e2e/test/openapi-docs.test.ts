/**
 * The committed OpenAPI documents (docs/api/, written by `make openapi`; `make test` fails when they are stale)
 * are valid OpenAPI 3.1 by the specification's own JSON Schema, one per declared API plus the public one, and
 * the public one holds exactly the operations under the model's front-door prefixes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { matchesPathPrefix, type OpenApiDocument } from '@flotilla/runtime';
import { apis } from '../../services/apis.js';
import { shop } from '../../services/system.js';

const dir = fileURLToPath(new URL('../../docs/api/', import.meta.url));
const read = (file: string) => JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as OpenApiDocument;

describe('docs/api', () => {
  it('holds one document per declared API and the public one', () => {
    expect(readdirSync(dir).sort()).toEqual(
      [...Object.keys(apis).map((s) => `${s}.json`), 'public.json'].sort(),
    );
  });

  it.each(readdirSync(dir))('%s is valid OpenAPI 3.1', async (file) => {
    const doc = read(file);
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('public.json has every operation under a front-door prefix, and no other', () => {
    const front = read('public.json');
    const expected: string[] = [];
    for (const service of shop.services)
      for (const [path, item] of Object.entries(apis[service.name] ? read(`${service.name}.json`).paths : {}))
        if (service.routes.some((prefix) => matchesPathPrefix(path, prefix)))
          for (const method of Object.keys(item)) expected.push(`${method} ${path}`);
    const actual = Object.entries(front.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m} ${path}`),
    );
    expect(actual.sort()).toEqual(expected.sort());
    expect(actual.length).toBeGreaterThan(0);
    expect(actual.some((op) => op.includes('/internal/'))).toBe(false);
  });
});
