import type { webApi } from '@slack/bolt';
import type { ApprovalNotifier } from '../activities/notifier';
import type { Clock } from '../src/clock';
import type { ApprovalState, MessageRef } from '../workflows/approval-contract';
import { SlackAppError } from './errors';
import { APPROVAL_METADATA_EVENT, approvalMetadata, renderApproval } from './render';

type WebClient = webApi.WebClient;

export interface SlackNotifierOptions {
  /**
   * The bot's Web API client. Create it with `retryConfig: { retries: 0 }`: a retry inside the
   * client after a lost response would post again, while a retry of the activity looks first.
   */
  client: WebClient;
  /** the approval channel's id (C…/G…); conversations.history takes ids, not names */
  channel: string;
  clock: Clock;
  /** how many pages of 200 messages to search for an earlier post (default 5) */
  historyPages?: number;
}

/** Slack and the gateway may disagree on the time; search history from this much earlier. */
const HISTORY_SKEW_MS = 10 * 60 * 1000;

interface HistoryMessage {
  ts?: string;
  bot_id?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * Approval messages in one Slack channel. `post` is idempotent per approval: the approval id
 * rides in the message metadata and is looked up in the channel's history before posting, so
 * an activity retried after a post whose answer was lost finds the message instead of posting a
 * second one (THREATS 24). `update` edits that message in place for every state change.
 */
export function createSlackNotifier(options: SlackNotifierOptions): ApprovalNotifier {
  const { client, channel, clock } = options;
  if (!/^[CGD][A-Z0-9]{2,}$/.test(channel)) {
    throw new SlackAppError('SLACK_CONFIG_INVALID', `slack channel "${channel}" is not a channel id: give the id (C…), found under the channel's details, not its name`);
  }
  const historyPages = options.historyPages ?? 5;
  let botId: Promise<string | undefined> | undefined;

  // Only our own bot's messages count: another app could post metadata with our event type.
  const ownBotId = (): Promise<string | undefined> => {
    botId ??= client.auth.test().then(
      (r) => r.bot_id,
      (err: unknown) => {
        botId = undefined;
        throw err;
      },
    );
    return botId;
  };

  async function findPosted(state: ApprovalState): Promise<MessageRef | undefined> {
    const bot = await ownBotId();
    const since = Math.min(state.request.requestedAt, clock.now()) - HISTORY_SKEW_MS;
    let cursor: string | undefined;
    for (let page = 0; page < historyPages; page += 1) {
      const res = await client.conversations.history({
        channel,
        include_all_metadata: true,
        limit: 200,
        oldest: (since / 1000).toFixed(6),
        ...(cursor ? { cursor } : {}),
      });
      const found = (res.messages as HistoryMessage[] | undefined)?.find(
        (m) =>
          m.metadata?.event_type === APPROVAL_METADATA_EVENT &&
          m.metadata.event_payload?.approval_id === state.approvalId &&
          m.metadata.event_payload?.requested_at === String(state.request.requestedAt) &&
          (bot === undefined || m.bot_id === bot),
      );
      if (found?.ts) return { channel, ts: found.ts };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  return {
    async post(state, postOptions) {
      if (postOptions?.retried ?? true) {
        const earlier = await findPosted(state);
        if (earlier) return earlier;
      }
      const { text, blocks } = renderApproval(state);
      const res = await client.chat.postMessage({
        channel,
        text,
        blocks,
        metadata: approvalMetadata(state),
        unfurl_links: false,
        unfurl_media: false,
      });
      if (!res.ts) throw new Error('chat.postMessage answered without a message ts');
      return { channel: res.channel ?? channel, ts: res.ts };
    },

    async update(ref, state) {
      const { text, blocks } = renderApproval(state);
      await client.chat.update({ channel: ref.channel, ts: ref.ts, text, blocks, metadata: approvalMetadata(state) });
    },
  };
}
