/**
 * Instructions a request of one HTTP contender, counted by valgrind's callgrind: a measure that a busy
 * shared machine does not disturb (two runs of the same server agree to about ±2%), for checking a change
 * of a few microseconds that timed A/Bs (./ab.ts) cannot separate from the noise. Not part of `make bench`:
 *
 *   apt-get install valgrind   # once
 *   npx tsc -b && node --import tsx e2e/bench/http/instructions.ts [contender] [get|post] [KEY=VALUE ...]
 *
 * The server runs under callgrind with counting off while it warms up (INSTR_WARMUP_SECONDS, 25, at
 * 150 req/s), then counts while INSTR_REQUESTS (1200) requests come at INSTR_RATE (40) req/s, slow enough
 * for the server under callgrind to answer each before the next. Printed: instructions a request, all
 * threads, split into the garbage collector, compiling and the rest. Compare the columns, not only the
 * total: after a short warm-up V8 still compiles, and work done every few seconds (a metric export) weighs
 * far more per request at 40 req/s than at 3000. INSTR_ROOT=<checkout> runs that checkout's server (as
 * ./ab.ts runs side A), to compare a change with the code before it. INSTR_KEEP=1 keeps callgrind's output, for
 * `callgrind_annotate` (JIT-compiled JavaScript shows as `???`; V8's builtins and runtime have names).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { variablesOf } from '../lib/child.js';
import { contender, routeLoad, startContender, type RouteKey } from './contenders.js';
import { startLoadGenerator } from './generator.js';

const [which = 'kit', routeArg = 'get', ...overrides] = process.argv.slice(2);
const route: RouteKey = routeArg === 'post' ? 'post' : 'get';
const requests = Number(process.env.INSTR_REQUESTS ?? 1200);
const rate = Number(process.env.INSTR_RATE ?? 40);
const warmupSeconds = Number(process.env.INSTR_WARMUP_SECONDS ?? 25);

/** Where V8's and the C library's functions go, by name (callgrind_annotate's "file:function" column). */
const PARTS: readonly (readonly [string, RegExp])[] = [
  [
    'gc',
    /Scaveng|heap::|Heap::|Sweep|Marking|Mark[A-Z]|Evacuat|IterateObjectCache|RootScavenge|FreeList|PagedSpace|MainAllocator|SizeFromMap|IteratePointers|Ephemeron|GlobalHandles|MemoryChunk|Remembered|SlotSet|ArrayBufferSweeper/,
  ],
  [
    'compiling',
    /compiler::|maglev|turboshaft|Parser|Scanner|Bytecode|interpreter::|Compiler|Zone::|Scope::|Deoptimiz|Runtime_Compile|CodeAssembler|Assembler::|AstValueFactory|SourcePosition/i,
  ],
];

function requireValgrind(): void {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'instructions.ts needs valgrind (callgrind): install it, e.g. `apt-get install valgrind`',
    );
  }
}

/** Instructions by part, from one callgrind output file. */
function instructionsByPart(file: string): Map<string, number> {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const parts = new Map<string, number>([...PARTS.map(([name]) => [name, 0] as const), ['rest', 0]]);
  for (const line of text.split('\n')) {
    const match = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (match === null || line.includes('PROGRAM TOTALS')) continue;
    const [, count = '0', fn = ''] = match;
    const part = PARTS.find(([, pattern]) => pattern.test(fn))?.[0] ?? 'rest';
    parts.set(part, (parts.get(part) ?? 0) + Number(count.replaceAll(',', '')));
  }
  return parts;
}

requireValgrind();
const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-instr-'));
const generator = startLoadGenerator();
const out = join(dir, 'callgrind.out');
try {
  const running = await startContender(contender(which), {
    stdoutFile: join(dir, 'server.log'),
    extra: variablesOf(overrides),
    wrapper: ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`],
    startTimeoutMs: 300_000,
    root: process.env.INSTR_ROOT,
  });
  try {
    const pid = String(running.child.process.pid);
    const control = (...args: string[]) =>
      execFileSync('callgrind_control', [...args, pid], { stdio: 'ignore' });
    const load = (seconds: number, at: number) =>
      generator.run(routeLoad(running.port, route, { connections: 20, seconds, rate: at }));
    await load(warmupSeconds, 150);
    await load(5, rate);
    control('--zero');
    control('--instr=on');
    const result = await load(requests / rate, rate);
    control('--instr=off');
    control('--dump');
    // The dump is the numbered file; the unnumbered one is written at exit.
    const dumped = readdirSync(dir).filter((f) => f.startsWith('callgrind.out.'));
    if (dumped.length === 0) throw new Error(`callgrind wrote no dump in ${dir}`);
    const parts = instructionsByPart(join(dir, dumped.sort().at(-1) as string));
    const total = [...parts.values()].reduce((a, b) => a + b, 0);
    const perRequest = (n: number) => `${Math.round(n / result.total / 100) / 10}k`;
    console.log(
      `${running.contender.name} (${route.toUpperCase()}), ${result.total} requests at ${rate} req/s: ` +
        `${perRequest(total)} instructions a request (` +
        [...parts].map(([name, n]) => `${name} ${perRequest(n)}`).join(', ') +
        ')',
    );
  } finally {
    await running.stop();
  }
} finally {
  await generator.stop();
  if (process.env.INSTR_KEEP === '1') console.log(`callgrind output kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
