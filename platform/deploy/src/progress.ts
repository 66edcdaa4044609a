/**
 * What deploy shows while it works: one line per object. On a terminal each object's line is rewritten in
 * place as it moves on (applying -> applied, waiting 0/2 -> 2/2 available); elsewhere (CI, a pipe) a line
 * is printed each time an object's state changes, so a log reads top to bottom.
 */

/** Where progress goes. */
export interface Progress {
  /** Sets the line of one object (`key`), e.g. `Deployment shop/orders  1/2 replicas available`. */
  update(key: string, text: string): void;
  /** A line of its own, not tied to an object (a phase heading, a summary). */
  note(text: string): void;
}

/** The stream progress is written to. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly rows?: number;
}

/** Plain lines: a new line whenever an object's text changes. */
export class PlainProgress implements Progress {
  private readonly last = new Map<string, string>();
  constructor(private readonly out: ProgressStream) {}

  update(key: string, text: string): void {
    if (this.last.get(key) === text) return;
    this.last.set(key, text);
    this.out.write(`${text}\n`);
  }

  note(text: string): void {
    this.out.write(`${text}\n`);
  }
}

const CLEAR_LINE = '\x1b[2K';
const up = (n: number): string => `\x1b[${n}A`;
const down = (n: number): string => `\x1b[${n}B`;

/**
 * Live lines on a terminal: each object keeps its line and it is redrawn in place. A line that has scrolled
 * out of the window cannot be reached any more, so its update is printed as a new line instead.
 */
export class LiveProgress implements Progress {
  /** Line index (from the top of what was printed) of each object. */
  private readonly lines = new Map<string, number>();
  private printed = 0;
  constructor(private readonly out: ProgressStream) {}

  update(key: string, text: string): void {
    const line = this.lines.get(key);
    const rows = this.out.rows ?? 24;
    if (line === undefined || this.printed - line >= rows) {
      this.lines.set(key, this.printed);
      this.note(text);
      return;
    }
    const offset = this.printed - line;
    this.out.write(`${up(offset)}\r${CLEAR_LINE}${text}\r${down(offset)}`);
  }

  note(text: string): void {
    this.out.write(`${text}\n`);
    this.printed += 1;
  }
}

/** Live lines on a terminal, plain lines otherwise. */
export function progressFor(out: ProgressStream): Progress {
  return out.isTTY ? new LiveProgress(out) : new PlainProgress(out);
}
