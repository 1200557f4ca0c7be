import { defaultPayloadConverter, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/** An update as the workflow history records it: accepted (with its input), then completed. */
export interface RecordedUpdate {
  updateId: string;
  name: string;
  input: unknown[];
  /** the handler's result, when it completed successfully */
  result?: unknown;
  /** the failure message, when the handler failed the update */
  failure?: string;
}

/** The updates a workflow's history holds, in the order they were accepted. */
export async function updatesInHistory(handle: WorkflowHandle): Promise<RecordedUpdate[]> {
  const history = await handle.fetchHistory();
  const byId = new Map<string, RecordedUpdate>();
  for (const event of history.events ?? []) {
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted) {
      const request = accepted.acceptedRequest;
      const updateId = request?.meta?.updateId ?? '';
      byId.set(updateId, {
        updateId,
        name: request?.input?.name ?? '',
        input: (request?.input?.args?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)),
      });
    }
    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    if (completed) {
      const update = byId.get(completed.meta?.updateId ?? '');
      if (!update) continue;
      const success = completed.outcome?.success?.payloads?.[0];
      if (success) update.result = defaultPayloadConverter.fromPayload(success);
      if (completed.outcome?.failure) update.failure = completed.outcome.failure.message ?? 'failed';
    }
  }
  return [...byId.values()];
}

export interface CapturedLog {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
}

/**
 * Routes the SDK's logs (workflow `log`, worker, and core's native ones) into a list, WARN and up,
 * so expected failures (a chat outage) do not flood the test output and tests can assert on them.
 * The runtime is per process: installed once; a later call returns the same list.
 */
export function captureRuntimeLogs(): { logger: Logger; logs: CapturedLog[] } {
  const store = globalThis as { [CAPTURED]?: { logger: Logger; logs: CapturedLog[] } };
  const existing = store[CAPTURED];
  if (existing) return existing;
  const logs: CapturedLog[] = [];
  const logger = new DefaultLogger('WARN', (entry) => {
    logs.push({ level: entry.level, message: entry.message, meta: entry.meta });
  });
  Runtime.install({ logger, telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } } });
  store[CAPTURED] = { logger, logs };
  return store[CAPTURED];
}

const CAPTURED = Symbol.for('vecgate.test.temporalLogs');
