import {
  APPROVE_ACTION_ID,
  codeBlockText,
  DENY_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  DENY_REASON_CALLBACK_ID,
  escapeMrkdwn,
  REASON_LABEL,
  RENDERING_HEADING,
  renderApproval,
  renderDenyModal,
  slackDate,
  truncate,
  type KnownBlock,
} from '../../slack-app/render';
import type { ApprovalState, ApprovalStatus, ApproverIdentity } from '../../workflows/approval-contract';
import { pendingState } from './support/approvals';

const T0 = Date.UTC(2030, 0, 2, 9, 0, 0);
const carol: ApproverIdentity = { subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards'], via: 'slack', slackTeamId: 'T0VECGATE', slackUserId: 'U0CAROL' };
const apiApprover: ApproverIdentity = { subject: 'u-1005-erin', groups: ['data-stewards'], via: 'api' };

function textOf(blocks: KnownBlock[]): string {
  return JSON.stringify(blocks);
}

/** every mrkdwn text (plain_text is shown as is by Slack and needs no escaping) */
function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (typeof value !== 'object' || value === null) return [];
  const node = value as { type?: unknown; text?: unknown };
  const own = node.type === 'mrkdwn' && typeof node.text === 'string' ? [node.text] : [];
  return [...own, ...Object.values(value).flatMap(mrkdwnTexts)];
}

function buttons(blocks: KnownBlock[]): Array<{ action_id?: string; value?: string }> {
  return blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as Array<{ action_id?: string; value?: string }>) : []));
}

function withStatus(status: ApprovalStatus, extra: Partial<ApprovalState> = {}): ApprovalState {
  return pendingState({ status, ...extra });
}

describe('renderApproval', () => {
  it.each<[ApprovalStatus, Partial<ApprovalState>, string, boolean, string | undefined]>([
    ['pending', {}, 'Approval requested: delete on chroma-prod', true, undefined],
    ['approved', { grant: { grantId: 'g', issuedAt: T0, expiresAt: T0 + 600_000 } }, 'Approved: delete on chroma-prod', false, 'may run it once until'],
    ['denied', {}, 'Denied: delete on chroma-prod', false, 'denied; the request will not run'],
    ['expired', { closedAt: T0 + 900_000 }, 'Expired: nobody decided before the deadline: delete on chroma-prod', false, 'expired at'],
    ['executed', { execution: { grantId: 'g', status: 200, bytes: 10, durationMs: 5, responseSha256: 'a', at: T0 } }, 'Approved and executed: delete on chroma-prod', false, 'upstream answered 200'],
    ['grant_expired', {}, 'Approved, but the grant expired unused: delete on chroma-prod', false, 'did not use the grant in time'],
  ])('%s: header, buttons and outcome', (status, extra, header, hasButtons, outcome) => {
    const { blocks } = renderApproval(withStatus(status, extra));
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: header, emoji: false } });
    expect(buttons(blocks).length > 0).toBe(hasButtons);
    if (outcome) expect(textOf(blocks)).toContain(outcome);
    else expect(textOf(blocks)).not.toContain('*Outcome:*');
  });

  it('gives the pending message Approve and Deny buttons carrying the approval id', () => {
    const { blocks } = renderApproval(pendingState({}, { approvalId: 'appr-xyz' }));
    expect(buttons(blocks).map((b) => [b.action_id, b.value])).toEqual([
      [APPROVE_ACTION_ID, 'appr-xyz'],
      [DENY_ACTION_ID, 'appr-xyz'],
    ]);
  });

  it.each([
    ['requester', '*Requester*\\nalice@example.test (u-1001-alice)'],
    ['operation with bulk', '*Operation*\\ndelete (bulk)'],
    ['connection', '*Connection*\\nchroma-prod'],
    ['collections', '*Collections*\\ncustomers'],
    ['reason, labelled as the requester\'s claim', "*Requester's reason (their claim, unchecked)*\\nGDPR erasure ticket 4711"],
    ['deadline', `*Deadline*\\n<!date^${(T0 + 900_000) / 1000}^{date_short_pretty} {time}|2030-01-02T09:15:00.000Z>`],
    ['summary', 'Delete 1,204 records where customer_id in (…) from customers'],
    ['method and path', '`POST /api/v2/tenants/t/databases/d/collections/customers/delete`'],
    ['progress and rule', '0 of 1 approvals from data-stewards · rule bulk-delete-needs-review · approval appr-0001'],
  ])('shows the %s', (_what, expected) => {
    expect(textOf(renderApproval(pendingState()).blocks)).toContain(expected);
  });

  it.each<[string, Partial<Parameters<typeof pendingState>[1]>, string]>([
    ['no reason', { reason: undefined }, "*Requester's reason (their claim, unchecked)*\\n_none given_"],
    ['no collections', { collections: [] }, '*Collections*\\n_none resolved_'],
    ['not bulk', { bulk: false }, '*Operation*\\ndelete"'],
    ['requester without e-mail', { requester: { subject: 'svc-indexer', groups: [] } }, '*Requester*\\nsvc-indexer"'],
    ['several collections', { collections: ['a', 'b'] }, '*Collections*\\na, b'],
  ])('with %s', (_what, request, expected) => {
    expect(textOf(renderApproval(pendingState({}, request)).blocks)).toContain(expected);
  });

  it.each<[string, ApproverIdentity, 'approve' | 'deny', string | undefined, string]>([
    ['a Slack approver', carol, 'approve', undefined, ':white_check_mark: approved by <@U0CAROL> carol@example.test (u-1003-carol)'],
    ['an API approver', apiApprover, 'approve', undefined, ':white_check_mark: approved by u-1005-erin,'],
    ['a deny with reason', carol, 'deny', 'not this week', ':no_entry: denied by <@U0CAROL> carol@example.test (u-1003-carol)'],
  ])('lists the decision of %s', (_what, approver, decision, reason, expected) => {
    const state = pendingState({ status: decision === 'deny' ? 'denied' : 'pending', decisions: [{ decisionId: 'd', approver, decision, ...(reason ? { reason } : {}), at: T0 + 60_000 }] });
    const shown = textOf(renderApproval(state).blocks);
    expect(shown).toContain(expected);
    expect(shown).toContain(slackDate(T0 + 60_000));
    if (reason) expect(shown).toContain(`“${reason}”`);
  });

  it('counts approvals toward N of M', () => {
    const state = pendingState(
      { decisions: [{ decisionId: 'd', approver: carol, decision: 'approve', at: T0 }] },
      { policy: { approverGroups: ['data-stewards', 'security'], required: 2, timeoutMs: 1, usableForMs: 1, reasonRequired: false } },
    );
    expect(textOf(renderApproval(state).blocks)).toContain('1 of 2 approvals from data-stewards, security');
  });

  it.each([
    ['a channel mention in the reason', { reason: 'please <!channel> look' }, '&lt;!channel&gt;', '<!channel>'],
    ['a user mention in the summary', { summary: 'ping <@U0BOSS>' }, '&lt;@U0BOSS&gt;', '<@U0BOSS>'],
    ['a link in the connection name', { connection: '<https://evil.example|prod>' }, '&lt;https://evil.example|prod&gt;', '<https://evil.example'],
    ['an ampersand', { reason: 'R&D' }, 'R&amp;D', 'R&D'],
  ])('escapes %s so it cannot mention, link or format', (_what, request, escaped, raw) => {
    const rendered = renderApproval(pendingState({}, request));
    const mrkdwn = mrkdwnTexts(rendered.blocks).join('\n');
    expect(mrkdwn).toContain(escaped);
    expect(mrkdwn).not.toContain(raw);
    expect(rendered.text).not.toContain(raw);
  });

  it('does not format a forged Slack user id of an approver', () => {
    const forged = { ...carol, slackUserId: 'U1> <!channel' };
    const shown = textOf(renderApproval(pendingState({ decisions: [{ decisionId: 'd', approver: forged, decision: 'approve', at: T0 }] })).blocks);
    expect(shown).not.toContain('<!channel');
  });

  describe('the request as it will run (THREATS 34)', () => {
    const rendering = (text: string, truncated = false) => ({ rendering: { text, truncated } });
    const sectionWith = (blocks: KnownBlock[], heading: string) =>
      mrkdwnTexts(blocks).find((t) => t.startsWith(heading)) as string;

    it('shows the rendering in a code block, apart from the requester\'s reason', () => {
      const text = 'POST /api/v2/tenants/t/databases/d/collections/c/delete\nwhere: {"kind": {"$ne": "__none__"}}';
      const { blocks } = renderApproval(pendingState({}, { ...rendering(text), reason: 'remove 3 test rows' }));
      const section = sectionWith(blocks, RENDERING_HEADING);
      expect(section).toBe(`${RENDERING_HEADING}\n\`\`\`\n${text}\n\`\`\``);
      expect(section).not.toContain('remove 3 test rows');
      expect(textOf(blocks)).toContain(`*${REASON_LABEL}*\\nremove 3 test rows`);
    });

    it('says so when an older gateway recorded no rendering', () => {
      expect(sectionWith(renderApproval(pendingState()).blocks, RENDERING_HEADING)).toContain('Not recorded');
    });

    it.each([
      ['a closing fence', 'where: {"a": "```"}\n<!channel> *bold*', 3],
      ['a trailing backtick', 'where: {"a": "x`', 2],
      ['many backticks', '`'.repeat(50), 2],
    ])('cannot be broken out of by %s', (_what, text) => {
      const section = sectionWith(renderApproval(pendingState({}, rendering(text))).blocks, RENDERING_HEADING);
      const inside = section.slice(section.indexOf('```\n') + 4, section.lastIndexOf('\n```'));
      expect(section.startsWith(`${RENDERING_HEADING}\n\`\`\`\n`)).toBe(true);
      expect(section.endsWith('\n```')).toBe(true);
      expect(inside).not.toContain('``');
      expect(inside.endsWith('`')).toBe(false);
      expect(inside).not.toContain('<!channel>');
      expect(inside.replace(/\u200b/g, '')).toBe(escapeMrkdwn(text));
    });

    it('fits a rendering whose escaped text is longer than a section into one, saying where the rest is', () => {
      const text = `where: ${'<&>'.repeat(1000)}`;
      const section = sectionWith(renderApproval(pendingState({}, rendering(text, false))).blocks, RENDERING_HEADING);
      expect(section.length).toBeLessThanOrEqual(3000);
      expect(section).toContain('cut to fit Slack; GET /vecgate/approvals/appr-0001 shows all of it');
      expect(section).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(section.endsWith('\n```')).toBe(true);
    });

    it.each([
      ['plain', 'plain'],
      ['a < b & c', 'a &lt; b &amp; c'],
      ['``', '`\u200b`\u200b'],
      ['x`', 'x`\u200b'],
    ])('codeBlockText(%j)', (input, expected) => {
      expect(codeBlockText(input)).toBe(expected);
    });

    it('cuts whole characters only', () => {
      expect(codeBlockText('a&b', 3)).toBe('a');
    });
  });

  it('keeps every text within Block Kit limits for very long input', () => {
    const long = 'x'.repeat(10_000);
    const { blocks, text } = renderApproval(pendingState({}, { summary: long, reason: long, operation: long, connection: long, rendering: { text: '`<'.repeat(1500), truncated: true } }));
    expect((blocks[0] as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(150);
    for (const block of blocks) {
      if (block.type === 'section') {
        if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
        for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
    expect(text.length).toBeLessThanOrEqual(3000);
  });

  it.each<[ApprovalStatus, RegExp]>([
    ['pending', /^Approval requested: alice@example\.test wants to run delete on chroma-prod\/customers\. Decide before 2030-01-02T09:15:00\.000Z\.$/],
    ['denied', /^Denied: alice@example\.test wants to run delete on chroma-prod\/customers\.$/],
  ])('writes a fallback text for %s', (status, expected) => {
    expect(renderApproval(withStatus(status)).text).toMatch(expected);
  });
});

describe('renderDenyModal', () => {
  it('asks for a required reason and keeps the private metadata', () => {
    const view = renderDenyModal({ approvalId: 'appr-1', privateMetadata: '{"approvalId":"appr-1"}' });
    expect(view).toMatchObject({ type: 'modal', callback_id: DENY_REASON_CALLBACK_ID, private_metadata: '{"approvalId":"appr-1"}' });
    const input = view.blocks.find((b) => b.type === 'input');
    expect(input).toMatchObject({ block_id: DENY_REASON_BLOCK_ID, element: { type: 'plain_text_input', min_length: 1 } });
    expect((input as { optional?: boolean }).optional).toBeUndefined();
  });
});

describe('text helpers', () => {
  it.each([
    ['a < b > c & d', 'a &lt; b &gt; c &amp; d'],
    ['plain', 'plain'],
    ['&amp;', '&amp;amp;'],
  ])('escapeMrkdwn(%j)', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it.each([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['longer than ten', 10, 'longer th…'],
  ])('truncate(%j, %d)', (input, max, expected) => {
    expect(truncate(input, max)).toBe(expected);
  });
});
