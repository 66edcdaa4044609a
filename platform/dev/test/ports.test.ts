import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { ephemeralRange, freePorts } from '../src/ports.js';

describe('freePorts', () => {
  it('picks distinct ports below the ephemeral range, which outgoing connections never take', async () => {
    const [low] = ephemeralRange();
    const ports = await freePorts(40);
    expect(new Set(ports).size).toBe(40);
    for (const port of ports) expect(port).toBeLessThan(low);
  });

  it('gives back ports a server can listen on at once', async () => {
    const [port] = (await freePorts(1)) as [number];
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
