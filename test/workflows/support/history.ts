import { defaultPayloadConverter, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime, type Logger } from '@temporalio/worker';

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

/**
 * Workers log every workflow log line at INFO; tests keep warnings only. The runtime is per
 * process and installed once.
 */
export function quietRuntime(): Logger {
  const logger = new DefaultLogger('WARN');
  try {
    Runtime.install({ logger });
  } catch {
    // already installed by an earlier test file in this jest worker
  }
  return logger;
}
