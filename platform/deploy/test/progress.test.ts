import { LiveProgress, PlainProgress, progressFor } from '../src/progress.js';

class Capture {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly rows = 24,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('progress', () => {
  it('prints plain lines in CI, one each time an object changes state', () => {
    const out = new Capture(false);
    const progress = progressFor(out);
    expect(progress).toBeInstanceOf(PlainProgress);
    progress.update('a', 'applying  A');
    progress.update('a', 'applying  A');
    progress.update('b', 'applying  B');
    progress.update('a', 'applied   A');
    expect(out.text).toBe('applying  A\napplying  B\napplied   A\n');
  });

  it("rewrites an object's own line in place on a terminal", () => {
    const out = new Capture(true);
    const progress = progressFor(out);
    expect(progress).toBeInstanceOf(LiveProgress);
    progress.update('a', 'waiting   A  0/2');
    progress.update('b', 'waiting   B  0/1');
    progress.update('a', 'ready     A  2/2');
    // Up two lines to A's, clear it, write, back down: B's line stays where it is.
    expect(out.text).toBe('waiting   A  0/2\nwaiting   B  0/1\n\x1b[2A\r\x1b[2Kready     A  2/2\r\x1b[2B');
  });

  it('prints a new line for an object whose line has scrolled out of the terminal', () => {
    const out = new Capture(true, 2);
    const progress = new LiveProgress(out);
    progress.update('a', 'A 1');
    progress.note('x');
    progress.note('y');
    progress.update('a', 'A 2');
    expect(out.text).toBe('A 1\nx\ny\nA 2\n');
  });
});
