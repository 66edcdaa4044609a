/**
 * Memory of a process, from /proc (Linux). RSS counts every page a process has in memory, including pages
 * it shares with others (the node binary, shared libraries), so RSS summed over processes counts those
 * more than once; PSS divides each shared page among the processes that map it, so PSS sums to what the
 * processes together really take.
 * @see https://www.kernel.org/doc/html/latest/filesystems/proc.html
 */
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Resident set size now, MiB (VmRSS). */
  readonly rssMb: number;
  /** Peak resident set size so far, MiB (VmHWM). */
  readonly peakRssMb: number;
  /** Proportional set size now, MiB (smaps_rollup), undefined where the kernel has no smaps_rollup. */
  readonly pssMb: number | undefined;
}

function kbField(text: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Memory of `pid`, or undefined when the process is gone (or /proc is not there). */
export function processMemory(pid: number | undefined): ProcessMemory | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = kbField(status, 'VmRSS');
    const hwm = kbField(status, 'VmHWM');
    if (rss === undefined || hwm === undefined) return undefined;
    let pss: number | undefined;
    try {
      pss = kbField(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
    } catch {
      pss = undefined;
    }
    return { rssMb: rss / 1024, peakRssMb: hwm / 1024, pssMb: pss === undefined ? undefined : pss / 1024 };
  } catch {
    return undefined;
  }
}
