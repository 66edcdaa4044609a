/**
 * Event types are named twice by design: in the system model (each topic's `events`, which the charts turn
 * into SNS filter policies) and as the keys of the contracts' schemas (which producers and consumers
 * validate against). This keeps the two in step: a type with no schema, or a schema no topic carries, fails.
 */
import { topicEvents } from '@shop/contracts';
import { shop } from '../../services/system.js';

describe('shop contracts and the system model', () => {
  it('have the same topics', () => {
    expect(Object.keys(topicEvents).sort()).toEqual(shop.topics.map((t) => t.name).sort());
  });

  it.each(shop.topics.map((t) => [t.name, t.events] as const))(
    'topic %s: every event type the model declares has a schema, and no schema is extra',
    (topic, events) => {
      const schemas = topicEvents[topic as keyof typeof topicEvents];
      expect(Object.keys(schemas).sort()).toEqual([...events].sort());
    },
  );
});
