import { join } from 'node:path';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { ApprovalNotifier } from '../../activities/notifier';
import { ensureSearchAttributes } from './temporal-setup';

/** The workflows entry (workflows/index.ts, or its compiled .js next to this file in dist/). */
export const APPROVAL_WORKFLOWS_PATH = join(__dirname, '..', '..', 'workflows');

export interface ApprovalWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  notifier: ApprovalNotifier;
  /** a bundle made once with bundleWorkflowCode (tests, or a prebuilt bundle in production) */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** bundled at start when no workflowBundle is given; default APPROVAL_WORKFLOWS_PATH */
  workflowsPath?: string;
  /**
   * Register the approval search attributes before polling (default true). Turn off where the
   * operator API is not available to the worker (Temporal Cloud) and register them there.
   */
  registerSearchAttributes?: boolean;
  /** any other worker settings (identity, concurrency, shutdownGraceTime, ...) */
  worker?: Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowBundle' | 'workflowsPath'>;
}

/** The approval worker, ready to run: the caller owns `run()` / `shutdown()`. */
export async function createApprovalWorker(options: ApprovalWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, notifier } = options;
  if (options.registerSearchAttributes ?? true) await ensureSearchAttributes(connection, namespace);
  const workflows = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: options.workflowsPath ?? APPROVAL_WORKFLOWS_PATH };
  return Worker.create({
    ...options.worker,
    connection,
    namespace,
    taskQueue,
    activities: createActivities({ notifier }),
    ...workflows,
  });
}
