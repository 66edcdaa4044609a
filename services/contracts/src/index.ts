/**
 * @shop/contracts: the shop's event schemas (zod) and their TypeScript types, shared by producers and
 * consumers. A schema map per topic (`orderEvents`, `paymentEvents`) is keyed by event type, so a
 * publisher can only publish the types its topic carries and a consumer validates what it receives.
 * The maps are structurally the runtime's `EventSchemas` (`Record<string, z.ZodType>`); this package does
 * not import the runtime so that it stays a leaf every service (and tool) can depend on.
 */
export * from './events.js';
