/**
 * Reads an environment's rendered manifests (`dist/<env>/*.yaml`) into objects, with one error that lists
 * every problem (file, document, what is wrong) instead of stopping at the first.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, refKey, refOf, type KubeObject } from './objects.js';

/** One object of the manifests and where it was read. */
export interface Manifest {
  readonly object: KubeObject;
  /** File name inside the environment folder. */
  readonly file: string;
  /** Position of the document in its file, from 1. */
  readonly document: number;
}

/** Bad input: a missing folder, a file that is not YAML, a document that is not a Kubernetes object. */
export class ManifestError extends Error {
  constructor(
    message: string,
    /** Each problem, one line each. */
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'ManifestError';
  }
}

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/**
 * The objects of every manifest file directly in `dir`, in file-name order then document order. Subfolders
 * are not read: `argocd/` is what Argo CD is bootstrapped with and `iam/` holds IAM JSON for Terraform.
 * @throws ManifestError naming every problem found
 */
export function loadManifests(dir: string): Manifest[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const parent = dirname(dir);
    const siblings = existsSync(parent)
      ? readdirSync(parent).filter((entry) => statSync(join(parent, entry)).isDirectory())
      : [];
    throw new ManifestError(
      `no manifests folder ${dir}: run \`make synth\` to write dist/<env>/` +
        (siblings.length ? ` (folders in ${parent}: ${siblings.join(', ')})` : ''),
    );
  }
  const files = readdirSync(dir)
    .filter((file) => MANIFEST_FILE.test(file) && statSync(join(dir, file)).isFile())
    .sort();
  if (files.length === 0) {
    throw new ManifestError(`${dir} holds no manifest files (*.yaml, *.yml, *.json): run \`make synth\``);
  }
  const problems: string[] = [];
  const manifests: Manifest[] = [];
  for (const file of files) manifests.push(...readFile(join(dir, file), problems));
  problems.push(...duplicates(manifests));
  if (problems.length) {
    throw new ManifestError(
      `${dir}: ${problems.length} problem(s) in the manifests, nothing was applied`,
      problems,
    );
  }
  return manifests;
}

/**
 * The objects of one manifest file. @throws ManifestError naming every problem in it
 */
export function loadManifestFile(path: string): Manifest[] {
  const problems: string[] = [];
  const manifests = readFile(path, problems);
  if (problems.length) throw new ManifestError(`${path}: ${problems.length} problem(s)`, problems);
  return manifests;
}

function readFile(path: string, problems: string[]): Manifest[] {
  const file = basename(path);
  const out: Manifest[] = [];
  parseAllDocuments(readFileSync(path, 'utf8')).forEach((doc, i) => {
    const where = `${file} document ${i + 1}`;
    if (doc.errors.length) {
      const [first] = doc.errors;
      const line = first?.linePos?.[0]?.line;
      problems.push(
        `${where}${line ? ` (line ${line})` : ''}: not valid YAML: ${first?.message.split('\n')[0]}`,
      );
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing `---`
    const problem = notAnObject(value);
    if (problem) problems.push(`${where}: not a Kubernetes object: ${problem}`);
    else out.push({ object: value as KubeObject, file, document: i + 1 });
  });
  return out;
}

/** Why a parsed document is not a Kubernetes object, or undefined when it is one. */
function notAnObject(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected a mapping with apiVersion, kind and metadata, found ${Array.isArray(value) ? 'a list' : typeof value}`;
  }
  const { apiVersion, kind, metadata } = value as Record<string, unknown>;
  const missing = [
    typeof apiVersion === 'string' && apiVersion ? undefined : 'apiVersion',
    typeof kind === 'string' && kind ? undefined : 'kind',
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof (metadata as Record<string, unknown>).name === 'string' &&
    (metadata as Record<string, unknown>).name
      ? undefined
      : 'metadata.name',
  ].filter((field): field is string => field !== undefined);
  if (missing.length) return `missing ${missing.join(', ')}`;
  if (kind === 'List' || String(kind).endsWith('List'))
    return `${String(kind)} is not supported: write its items as documents`;
  return undefined;
}

function duplicates(manifests: readonly Manifest[]): string[] {
  const seen = new Map<string, Manifest>();
  const problems: string[] = [];
  for (const m of manifests) {
    const key = refKey(refOf(m.object));
    const first = seen.get(key);
    if (first) {
      problems.push(
        `${m.file} document ${m.document}: ${describe(refOf(m.object))} is also in ${first.file} document ${first.document}`,
      );
    } else seen.set(key, m);
  }
  return problems;
}
