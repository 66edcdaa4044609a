/** The one route both HTTP servers serve, so the benchmark compares the frameworks, not the handlers. */
export const ITEM_ROUTE = '/api/items/:id';

export function itemBody(id: string): { id: string; name: string; price: number; tags: string[] } {
  return { id, name: `item ${id}`, price: 42, tags: ['bench'] };
}

/** What a server child reports over IPC once it listens. */
export interface ListeningMessage {
  readonly type: 'listening';
  readonly port: number;
}
