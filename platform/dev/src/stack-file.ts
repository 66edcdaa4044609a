/**
 * `.dev/stack.json`: where the running local stack is, for tools and tests.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ProcessState } from './supervisor.js';

/** The contents of `.dev/stack.json`. */
export interface StackFile {
  /** The gateway: the system's public front door. */
  readonly gatewayUrl: string;
  /** SQS/SNS emulator endpoint (`AWS_ENDPOINT_URL_SQS` / `_SNS`). */
  readonly emulatorEndpoint: string;
  /** OTLP/HTTP endpoint of the trace sink; its waterfall page is `<traceSinkUrl>/traces`. */
  readonly traceSinkUrl: string;
  /** Process id of the stack itself (`make dev`). */
  readonly pid: number;
  readonly startedAt: string;
  readonly services: Readonly<Record<string, StackFileService>>;
}

export interface StackFileService {
  readonly url: string;
  readonly port: number;
  /** Current process id; changes when the service is restarted. Absent while it is down. */
  readonly pid?: number;
  readonly state: ProcessState;
}

/** Writes the file atomically (write, then rename), so a reader never sees half of it. */
export async function writeStackFile(path: string, content: StackFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`);
  await rename(tmp, path);
}

export async function removeStackFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
