import type { AuditRecord } from '../audit/event';
import type { SlackDecisionAnswer, SlackRefusal } from '../../slack-app/refusals';

/**
 * Approvers' clicks as audit events of the worker's own chain: the ones refused before they
 * reached a workflow (unmapped user, foreign workspace, stale groups) and the ones the workflow
 * answered, counted or refused. The workflow history holds the decisions too; these put them in the
 * same trail as the requests, so one verify covers both.
 */
export function refusalEvent(r: SlackRefusal): AuditRecord {
  return {
    ...base(r.approvalId, r.at, r.teamId, r.userId, r.decision),
    principal: null,
    decision: { effect: 'deny', ruleId: null, explanation: `A Slack click to ${r.decision} was refused before it reached the approval (${r.reason}).` },
    status: 403,
  };
}

export function answerEvent(a: SlackDecisionAnswer): AuditRecord {
  return {
    ...base(a.approvalId, a.at, a.teamId, a.userId, a.decision),
    principal: { subject: a.approver.subject, ...(a.approver.email ? { email: a.approver.email } : {}), groups: a.approver.groups, issuer: 'slack' },
    decision: {
      effect: a.counted ? 'allow' : 'deny',
      ruleId: null,
      explanation: a.counted ? `The approval counted the ${a.decision} decision: ${a.message}` : `The approval refused the ${a.decision} decision (${a.refusal ?? 'refused'}): ${a.message}`,
    },
    status: a.counted ? 200 : 403,
  };
}

function base(approvalId: string, at: number, teamId: string, userId: string, decision: 'approve' | 'deny'): Omit<AuditRecord, 'principal' | 'decision' | 'status'> {
  return {
    requestId: `slack-${approvalId}-${userId}-${at}`,
    time: new Date(at),
    client: { ip: '', userAgent: `slack:${teamId}/${userId}` },
    connection: null,
    dialect: null,
    request: { method: 'POST', path: `/slack/${decision}`, endpoint: 'slack.decision' },
    operation: null,
    collections: [],
    bulk: false,
    approval: { approvalId },
    latencyMs: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}
