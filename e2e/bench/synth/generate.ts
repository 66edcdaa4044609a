/**
 * Generated systems for the synth benchmark: N services, each with a public route, calls to its two next
 * peers, a topic of its own that it publishes, and a consumer of the previous service's topic.
 */
import { defineService, defineSystem, defineTopic, type System } from '@flotilla/model';

const pad = (i: number) => String(i).padStart(4, '0');

export function generatedSystem(n: number): System {
  const name = (i: number) => `svc-${pad(((i % n) + n) % n)}`;
  const topic = (i: number) => `t-${pad(((i % n) + n) % n)}`;
  return defineSystem({
    name: 'gen',
    topics: Array.from({ length: n }, (_, i) =>
      defineTopic({ name: topic(i), events: [`svc${pad(i)}.changed`] }),
    ),
    services: Array.from({ length: n }, (_, i) =>
      defineService({
        name: name(i),
        port: 8080,
        routes: [`/api/${name(i)}`],
        calls: [name(i + 1), name(i + 2)],
        publishes: [topic(i)],
        consumes: [{ topic: topic(i - 1) }],
      }),
    ),
  });
}
