/** The workflows entry the worker bundles: each export is a workflow type. */
export { approvalWorkflow } from './approval';
