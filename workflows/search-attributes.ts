import { defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';
import { SEARCH_ATTRIBUTES, type ApprovalRequest, type ApprovalStatus } from './approval-contract';

/**
 * The typed keys behind SEARCH_ATTRIBUTES, shared by the starter (set at start), the workflow (keeps
 * the outcome current) and the registration helper. VecgateCollection is a keyword list so an
 * approval that touches several collections is found by any of them.
 */
export const APPROVAL_SEARCH_KEYS = {
  requester: defineSearchAttributeKey(SEARCH_ATTRIBUTES.requester, 'KEYWORD'),
  connection: defineSearchAttributeKey(SEARCH_ATTRIBUTES.connection, 'KEYWORD'),
  collection: defineSearchAttributeKey(SEARCH_ATTRIBUTES.collection, 'KEYWORD_LIST'),
  operation: defineSearchAttributeKey(SEARCH_ATTRIBUTES.operation, 'KEYWORD'),
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome, 'KEYWORD'),
} as const;

/** What an approval is indexed by when it starts; a connection-level request has no collection. */
export function approvalSearchAttributes(request: ApprovalRequest, outcome: ApprovalStatus = 'pending'): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: APPROVAL_SEARCH_KEYS.requester, value: request.requester.subject },
    { key: APPROVAL_SEARCH_KEYS.connection, value: request.connection },
    { key: APPROVAL_SEARCH_KEYS.operation, value: request.operation },
    { key: APPROVAL_SEARCH_KEYS.outcome, value: outcome },
  ];
  if (request.collections.length > 0) pairs.push({ key: APPROVAL_SEARCH_KEYS.collection, value: [...request.collections] });
  return pairs;
}
