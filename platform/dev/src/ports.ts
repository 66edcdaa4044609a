import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * `count` distinct TCP ports on 127.0.0.1 that are free right now, all held open until every one is chosen,
 * so none is handed out twice.
 *
 * Picked below the kernel's ephemeral range, not by listening on port 0: a port from that range, once
 * released, can be taken by any outgoing connection (a connection pool's, in another test worker) before the
 * service that was meant to have it starts, which then fails with EADDRINUSE on every restart. Below the
 * range only another explicit bind can take it.
 */
export async function freePorts(count: number): Promise<number[]> {
  const [low] = ephemeralRange();
  const servers: Server[] = [];
  try {
    for (let attempt = 0; servers.length < count; attempt++) {
      if (attempt >= count + MAX_TAKEN_ATTEMPTS)
        throw new Error(`no ${count} free ports found between ${PICK_FROM} and ${low - 1}`);
      const port = PICK_FROM + Math.floor(Math.random() * (low - PICK_FROM));
      const server = await listenOn(port);
      if (server !== undefined) servers.push(server);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** Lowest port picked: above the registered ports most local servers use. */
const PICK_FROM = 10_000;
/** Taken ports tried before giving up. */
const MAX_TAKEN_ATTEMPTS = 50;

/** The server listening on `port`, or undefined when the port is taken. */
function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(undefined) : reject(err),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * The ports Linux gives outgoing connections and port-0 listeners (`ip_local_port_range`), or its default
 * where that file is absent.
 * @see https://docs.kernel.org/networking/ip-sysctl.html#ip-variables
 */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > PICK_FROM + 1000 && high >= low) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

/** Resolves when `GET <url>` answers 2xx; rejects after `timeoutMs` or when `abort` says to stop. */
export async function waitUntilReady(
  url: string,
  options: { timeoutMs: number; abort?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: string;
  for (;;) {
    const reason = options.abort?.();
    if (reason) throw new Error(reason);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${url} not ready after ${options.timeoutMs / 1000} s (last: ${last})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
