/**
 * A real browser for page tests: Debian's chromium, headless, driven over the Chrome DevTools Protocol
 * with Node's own WebSocket (no browser-automation package to install). Enough to open a page, read and
 * act on its DOM with JavaScript (as a user's clicks do), wait for navigations, and take screenshots.
 *
 * Chromium is looked for at FLOTILLA_CHROMIUM, then /usr/bin/chromium, then `chromium` on PATH
 * (CI installs it: `apt-get install -y chromium`).
 * @see https://chromedevtools.github.io/devtools-protocol/
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The chromium executable, or undefined when this machine has none. */
export function findChromium(): string | undefined {
  const configured = process.env.FLOTILLA_CHROMIUM;
  if (configured) return configured;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  const which = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

/**
 * Flags for a headless chromium that works in a container and does not reach the network on its own:
 * no sandbox (root in CI), no GPU, no QUIC, no first-run, background-networking, component-update or
 * sync traffic.
 */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
  '--remote-debugging-port=0',
];

interface CdpMessage {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** One tab. */
export interface Page {
  /** Navigates and resolves once the page's load event fired. */
  goto(url: string): Promise<void>;
  /** Evaluates `expression` in the page (awaiting a promise it returns) and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Runs `action` (e.g. a click that submits a form) and resolves once the navigation it causes loaded. */
  navigatedBy(action: string): Promise<void>;
  /**
   * Saves a PNG at `path`: 1400 px wide, as tall as the page up to `maxHeight` (what a person sees first
   * of a long list, all of a short page).
   */
  screenshot(path: string, maxHeight?: number): Promise<void>;
}

export interface Browser {
  newPage(): Promise<Page>;
  /** What chromium printed, for a failure message. */
  output(): string;
  close(): Promise<void>;
}

/** Starts a headless chromium with a fresh profile. */
export async function launchBrowser(executable: string): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'flotilla-chromium-'));
  const child: ChildProcess = spawn(executable, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const wsUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chromium did not start in 30 s:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${executable}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited (${signal ?? `code ${code}`}) before serving DevTools:\n${output}`));
    });
  });

  const socket = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${wsUrl}`)), { once: true });
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(m: CdpMessage) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as CdpMessage;
    if (message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(`CDP: ${message.error.message}`));
      else waiter?.resolve(message);
    } else for (const listener of listeners) listener(message);
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve: (m) => resolve(m.result ?? {}), reject });
      socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  const nextEvent = (method: string, sessionId: string, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (m: CdpMessage) => {
        if (m.method !== method || m.sessionId !== sessionId) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve();
      };
      listeners.add(listener);
    });

  return {
    output: () => output,
    async newPage() {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as {
        sessionId: string;
      };
      await send('Page.enable', {}, sessionId);
      await send('Runtime.enable', {}, sessionId);
      const evaluate = async <T>(expression: string): Promise<T> => {
        const out = (await send(
          'Runtime.evaluate',
          { expression, awaitPromise: true, returnByValue: true },
          sessionId,
        )) as {
          result?: { value?: T };
          exceptionDetails?: { text: string; exception?: { description?: string } };
        };
        if (out.exceptionDetails)
          throw new Error(
            `in the page: ${out.exceptionDetails.exception?.description ?? out.exceptionDetails.text}`,
          );
        return out.result?.value as T;
      };
      return {
        async goto(url) {
          const loaded = nextEvent('Page.loadEventFired', sessionId);
          await send('Page.navigate', { url }, sessionId);
          await loaded;
        },
        evaluate,
        async navigatedBy(action) {
          const loaded = nextEvent('Page.loadEventFired', sessionId);
          await evaluate(action);
          await loaded;
        },
        async screenshot(path, maxHeight = 1600) {
          const height = await evaluate<number>('document.documentElement.scrollHeight');
          await send(
            'Emulation.setDeviceMetricsOverride',
            {
              width: 1400,
              height: Math.min(Math.max(height, 600), maxHeight),
              deviceScaleFactor: 1,
              mobile: false,
            },
            sessionId,
          );
          const { data } = (await send('Page.captureScreenshot', { format: 'png' }, sessionId)) as {
            data: string;
          };
          await writeFile(path, Buffer.from(data, 'base64'));
        },
      };
    },
    async close() {
      try {
        await send('Browser.close');
      } catch {
        // already gone
      }
      socket.close();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
