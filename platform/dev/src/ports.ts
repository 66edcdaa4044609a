import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * `count` distinct TCP ports on 127.0.0.1 that are free right now (the OS picks them). All are held
 * open until every one is chosen, so the OS cannot hand out the same port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
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
