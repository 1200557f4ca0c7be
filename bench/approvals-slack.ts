/**
 * The Slack side of the approvals bench: a local FakeSlack, a watcher that sees each approval
 * message as FakeSlack records its chat.postMessage (with FakeSlack's own `at`, Date.now() when
 * the call was answered), and an approver's Approve click signed as Slack signs it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { EVENTS_PATH } from '../slack-app/http-receiver';
import { FakeSlack, type RecordedCall } from '../src/devstack/fake-slack';
import { buttonClick } from '../src/devstack/slack-payloads';
import { interactiveBody, postSigned, type PostResult } from '../src/devstack/slack-signing';

export const TEAM = 'T0VECGATE';
export const CHANNEL = 'C0APPROVALS';
export const BOT_TOKEN = 'xoxb-1111-2222-bench';
export const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
/** carol of the dev stack's demo directory, an approver (data-stewards) bound to a Slack user */
/** The worker's decision signing key for the bench run; the gateway trusts its public half. */
const deciderPair = generateKeyPairSync('ed25519');
export const DECIDER = {
  privateKeyPem: deciderPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  publicKeyPem: deciderPair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
};
export const APPROVER = { userId: 'U0CAROL', subject: 'u-0003-carol', email: 'carol@example.test', groups: ['data-stewards'], verifiedAt: new Date().toISOString() };

/** Each bench request carries a reason with its number; the approval message shows the reason. */
export const reasonFor = (n: number) => `approval-bench-req-${n}`;
const REASON = /approval-bench-req-(\d+)/;

export function startFakeSlack(): Promise<FakeSlack> {
  return FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, channels: [CHANNEL], users: [{ id: APPROVER.userId, teamId: TEAM, name: 'carol', email: APPROVER.email }] });
}

export interface Post {
  /** the request number (from its reason) */
  n: number;
  approvalId: string;
  /** Date.now() when FakeSlack answered the chat.postMessage */
  at: number;
}

/** Follows FakeSlack's recorded calls, polling (the calls carry their own time, so polling adds no error). */
export class PostWatcher {
  private cursor = 0;
  private readonly posts = new Map<number, Post>();
  private readonly waiters = new Map<number, (post: Post) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly counts = new Map<string, number>();

  constructor(private readonly slack: FakeSlack, pollMs = 5) {
    this.timer = setInterval(() => this.scan(), pollMs);
  }

  /** the post of request `n`, once it is there */
  wait(n: number, timeoutMs: number): Promise<Post> {
    this.scan();
    const seen = this.posts.get(n);
    if (seen) return Promise.resolve(seen);
    return new Promise<Post>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(n);
        reject(new Error(`no approval message for request ${n} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(n, (post) => {
        clearTimeout(timer);
        resolve(post);
      });
    });
  }

  get(n: number): Post | undefined {
    return this.posts.get(n);
  }

  /** how many approval messages were posted */
  get posted(): number {
    return this.posts.size;
  }

  /** Web API calls by method, failed ones included */
  callCounts(): Record<string, number> {
    this.scan();
    return Object.fromEntries(this.counts);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private scan(): void {
    const calls = this.slack.calls;
    for (; this.cursor < calls.length; this.cursor++) {
      const call = calls[this.cursor] as RecordedCall;
      this.counts.set(call.method, (this.counts.get(call.method) ?? 0) + 1);
      if (call.method !== 'chat.postMessage' || !call.ok) continue;
      const n = Number(REASON.exec(JSON.stringify(call.args.blocks ?? call.args.text ?? ''))?.[1] ?? NaN);
      if (!Number.isInteger(n) || this.posts.has(n)) continue;
      const approvalId = String((call.args.metadata as { event_payload?: { approval_id?: unknown } } | undefined)?.event_payload?.approval_id ?? '');
      const post = { n, approvalId, at: call.at };
      this.posts.set(n, post);
      this.waiters.get(n)?.(post);
      this.waiters.delete(n);
    }
  }
}

/** Carol clicks Approve on the message of `approvalId`, as Slack would deliver the click. */
export async function clickApprove(slack: FakeSlack, slackAppUrl: string, approvalId: string, actionSeq: number): Promise<PostResult> {
  const message = slack.messages(CHANNEL).find((m) => m.metadata?.event_payload.approval_id === approvalId);
  if (!message) throw new Error(`no approval message for ${approvalId}`);
  const payload = buttonClick('approve', {
    teamId: TEAM,
    userId: APPROVER.userId,
    approvalId,
    channel: CHANNEL,
    messageTs: message.ts,
    // the decision id is made of it: every click its own
    actionTs: `${Math.floor(Date.now() / 1000)}.${String(actionSeq).padStart(6, '0')}`,
    responseUrl: slack.newResponseUrl(),
    triggerId: slack.newTriggerId(),
  });
  return postSigned(`${slackAppUrl}${EVENTS_PATH}`, { signingSecret: SIGNING_SECRET, body: interactiveBody(payload) });
}
