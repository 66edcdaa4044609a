/**
 * In-process signal from the outbox writer to the relay: "a transaction that wrote outbox rows has committed".
 * Keyed by the Database object, so a relay only hears about its own database.
 */
const listeners = new WeakMap<object, Set<() => void>>();

export function onOutboxCommit(database: object, listener: () => void): () => void {
  let set = listeners.get(database);
  if (!set) listeners.set(database, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

export function signalOutboxCommit(database: object): void {
  for (const listener of listeners.get(database) ?? []) listener();
}
