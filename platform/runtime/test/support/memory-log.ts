import type { DestinationStream } from 'pino';

/** A pino destination keeping parsed lines in memory, for in-process tests. */
export function memoryLog(): DestinationStream & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}
