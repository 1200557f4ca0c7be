import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A local stand-in for the Slack platform, faithful where the Slack app depends on it:
 * - the Web API at {apiUrl}{method}: POST, form-encoded or JSON bodies, the token as
 *   `Authorization: Bearer` (or a `token` field), answers `{ ok: true, … }` / `{ ok: false, error }`
 *   with HTTP 200 like Slack; bot methods refuse app-level tokens and the reverse
 *   (not_allowed_token_type), unknown tokens are invalid_auth, none is not_authed;
 * - response_url endpoints (newResponseUrl) that record what the app posts to them;
 * - Socket Mode: apps.connections.open hands out a single-use ws:// URL of a WebSocket server
 *   that sends `hello`, then the envelopes a test pushes, and records the acks by envelope_id.
 * Every Web API call is recorded for assertions.
 */

export interface FakeUser {
  id: string;
  teamId: string;
  name: string;
  email?: string;
  /** default true */
  emailConfirmed?: boolean;
  deleted?: boolean;
  isBot?: boolean;
  /** a guest */
  isRestricted?: boolean;
}

export interface FakeSlackOptions {
  teamId: string;
  botToken: string;
  appToken?: string;
  appId?: string;
  botId?: string;
  botUserId?: string;
  users?: FakeUser[];
  /** channel ids that exist */
  channels?: string[];
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
  at: number;
  ok: boolean;
  error?: string;
}

export interface FakeMessage {
  type: 'message';
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  bot_id?: string;
  user: string;
  app_id?: string;
  edited?: { user: string; ts: string };
  /** how many times chat.update changed it */
  updates: number;
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  text?: string;
  blocks?: unknown[];
  message_ts: string;
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
  at: number;
}

export interface OpenedView {
  id: string;
  triggerId: string;
  view: Record<string, unknown>;
}

export interface SocketAck {
  envelopeId: string;
  payload: unknown;
  at: number;
}

type Answer = Record<string, unknown> & { ok: boolean; error?: string };

/** Fields Slack takes as JSON inside a form-encoded body. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view', 'unfurls']);

/** How long a trigger_id can be exchanged for a modal. */
const TRIGGER_TTL_MS = 3000;

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly views: OpenedView[] = [];
  readonly acks: SocketAck[] = [];

  private readonly options: Required<Omit<FakeSlackOptions, 'appToken'>> & { appToken?: string };
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly messagesByChannel = new Map<string, FakeMessage[]>();
  private readonly triggers = new Map<string, { issuedAt: number; used: boolean }>();
  private readonly responseUrls = new Set<string>();
  private readonly tickets = new Set<string>();
  private readonly sockets: WebSocket[] = [];
  private readonly dropOnce = new Set<string>();
  private readonly failures = new Map<string, string>();
  private readonly ackWaiters = new Map<string, (ack: SocketAck) => void>();
  private connectionWaiters: Array<() => void> = [];
  private lastTs = 0;
  private base = '';

  private constructor(options: FakeSlackOptions) {
    this.options = {
      appId: 'A0VECGATE',
      botId: 'B0VECGATE',
      botUserId: 'U0VECBOT',
      users: [],
      channels: [],
      ...options,
    };
    for (const channel of this.options.channels) this.messagesByChannel.set(channel, []);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://fake.invalid');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/link/' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  static async start(options: FakeSlackOptions): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = fake.server.address() as AddressInfo;
    fake.base = `http://127.0.0.1:${port}`;
    return fake;
  }

  /** the Web API base for WebClient's slackApiUrl */
  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** a channel's messages, oldest first */
  messages(channel: string): FakeMessage[] {
    return [...(this.messagesByChannel.get(channel) ?? [])];
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messagesByChannel.get(channel)?.find((m) => m.ts === ts);
  }

  /** a message someone else (another app, a person) posted in a channel */
  plantMessage(channel: string, message: { text: string; bot_id?: string; user?: string; metadata?: FakeMessage['metadata'] }): FakeMessage {
    const planted: FakeMessage = { type: 'message', channel, ts: this.nextTs(), user: message.user ?? 'U0SOMEONE', text: message.text, updates: 0, ...(message.bot_id ? { bot_id: message.bot_id } : {}), ...(message.metadata ? { metadata: message.metadata } : {}) };
    const list = this.messagesByChannel.get(channel);
    if (!list) throw new Error(`no channel ${channel}`);
    list.push(planted);
    return planted;
  }

  /** a response_url as Slack puts in interactive payloads and slash commands */
  newResponseUrl(): string {
    const id = randomBytes(8).toString('hex');
    this.responseUrls.add(id);
    return `${this.base}/actions/${id}`;
  }

  /** a trigger_id, exchangeable once for a modal within three seconds */
  newTriggerId(): string {
    const id = `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: Date.now(), used: false });
    return id;
  }

  /** the next call of `method` is carried out but its answer is lost (the connection drops) */
  dropResponseOnce(method: string): void {
    this.dropOnce.add(method);
  }

  /** the next call of `method` answers { ok: false, error } without doing anything */
  failNext(method: string, error: string): void {
    this.failures.set(method, error);
  }

  /** resolves once a Socket Mode client is connected (it has been sent `hello`) */
  waitForConnection(timeoutMs = 5000): Promise<void> {
    if (this.sockets.some((s) => s.readyState === s.OPEN)) return Promise.resolve();
    return withTimeout(new Promise<void>((resolve) => this.connectionWaiters.push(resolve)), timeoutMs, 'no Socket Mode connection');
  }

  /** sends an envelope to the newest connection; returns its envelope_id */
  pushEnvelope(type: 'interactive' | 'slash_commands' | 'events_api', payload: Record<string, unknown>): string {
    const socket = [...this.sockets].reverse().find((s) => s.readyState === s.OPEN);
    if (!socket) throw new Error('no Socket Mode connection to push to');
    const envelopeId = randomUUID();
    socket.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
    return envelopeId;
  }

  waitForAck(envelopeId: string, timeoutMs = 5000): Promise<SocketAck> {
    const done = this.acks.find((a) => a.envelopeId === envelopeId);
    if (done) return Promise.resolve(done);
    return withTimeout(new Promise<SocketAck>((resolve) => this.ackWaiters.set(envelopeId, resolve)), timeoutMs, `no ack for envelope ${envelopeId}`);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const body = await readBody(req);
    if (url.pathname.startsWith('/actions/')) {
      this.onResponseUrl(url.pathname.slice('/actions/'.length), req, body, res);
      return;
    }
    if (!url.pathname.startsWith('/api/') || req.method !== 'POST') {
      res.writeHead(404);
      res.end();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const args = parseArgs(req.headers['content-type'], body);
    const token = bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;

    const answer = this.failures.has(method) ? { ok: false, error: this.failures.get(method) as string } : this.call(method, args, token);
    this.failures.delete(method);
    this.calls.push({ method, args, token, at: Date.now(), ok: answer.ok, ...(answer.error ? { error: answer.error } : {}) });

    if (this.dropOnce.delete(method)) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer));
  }

  private onResponseUrl(id: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    if (req.method !== 'POST' || !this.responseUrls.has(id)) {
      res.writeHead(404);
      res.end();
      return;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('invalid_payload');
      return;
    }
    this.responses.push({ id, body: parsed, at: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true }));
  }

  private call(method: string, args: Record<string, unknown>, token: string | undefined): Answer {
    const needsAppToken = method === 'apps.connections.open';
    if (!token) return { ok: false, error: 'not_authed' };
    if (token !== this.options.botToken && token !== this.options.appToken) return { ok: false, error: 'invalid_auth' };
    if (needsAppToken !== (token === this.options.appToken)) return { ok: false, error: 'not_allowed_token_type' };

    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.test/', team: 'Fake Workspace', user: 'vecgate', team_id: this.options.teamId, user_id: this.options.botUserId, bot_id: this.options.botId, is_enterprise_install: false };
      case 'apps.connections.open': {
        const ticket = randomBytes(16).toString('hex');
        this.tickets.add(ticket);
        return { ok: true, url: `${this.base.replace(/^http/, 'ws')}/link/?ticket=${ticket}&app_id=${this.options.appId}` };
      }
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'views.open':
        return this.openView(args);
      case 'conversations.history':
        return this.history(args);
      case 'users.info':
        return this.userInfo(args);
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private postMessage(args: Record<string, unknown>): Answer {
    const channel = args.channel;
    if (typeof channel !== 'string' || !this.messagesByChannel.has(channel)) return { ok: false, error: 'channel_not_found' };
    if (typeof args.text !== 'string' && !Array.isArray(args.blocks)) return { ok: false, error: 'no_text' };
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) return { ok: false, error: 'invalid_blocks' };
    const metadata = args.metadata;
    if (metadata !== undefined && !isMetadata(metadata)) return { ok: false, error: 'invalid_metadata_format' };
    const message: FakeMessage = {
      type: 'message',
      channel,
      ts: this.nextTs(),
      ...(typeof args.text === 'string' ? { text: args.text } : {}),
      ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
      ...(metadata ? { metadata } : {}),
      bot_id: this.options.botId,
      user: this.options.botUserId,
      app_id: this.options.appId,
      updates: 0,
    };
    this.messagesByChannel.get(channel)?.push(message);
    return { ok: true, channel, ts: message.ts, message: publicMessage(message, true) };
  }

  private update(args: Record<string, unknown>): Answer {
    const channel = args.channel;
    if (typeof channel !== 'string' || !this.messagesByChannel.has(channel)) return { ok: false, error: 'channel_not_found' };
    const message = typeof args.ts === 'string' ? this.message(channel, args.ts) : undefined;
    if (!message) return { ok: false, error: 'message_not_found' };
    if (message.bot_id !== this.options.botId) return { ok: false, error: 'cant_update_message' };
    if (typeof args.text !== 'string' && !Array.isArray(args.blocks)) return { ok: false, error: 'no_text' };
    if (args.metadata !== undefined && !isMetadata(args.metadata)) return { ok: false, error: 'invalid_metadata_format' };
    if (typeof args.text === 'string') message.text = args.text;
    if (Array.isArray(args.blocks)) message.blocks = args.blocks;
    if (isMetadata(args.metadata)) message.metadata = args.metadata;
    message.updates += 1;
    message.edited = { user: this.options.botUserId, ts: this.nextTs() };
    return { ok: true, channel, ts: message.ts, text: message.text, message: publicMessage(message, true) };
  }

  private postEphemeral(args: Record<string, unknown>): Answer {
    const { channel, user } = args;
    if (typeof channel !== 'string' || !this.messagesByChannel.has(channel)) return { ok: false, error: 'channel_not_found' };
    if (typeof user !== 'string' || !this.options.users.some((u) => u.id === user)) return { ok: false, error: 'user_not_found' };
    if (typeof args.text !== 'string' && !Array.isArray(args.blocks)) return { ok: false, error: 'no_text' };
    const messageTs = this.nextTs();
    this.ephemerals.push({ channel, user, ...(typeof args.text === 'string' ? { text: args.text } : {}), ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}), message_ts: messageTs });
    return { ok: true, message_ts: messageTs };
  }

  private openView(args: Record<string, unknown>): Answer {
    const triggerId = args.trigger_id;
    const trigger = typeof triggerId === 'string' ? this.triggers.get(triggerId) : undefined;
    if (typeof triggerId !== 'string' || !trigger) return { ok: false, error: 'invalid_trigger_id' };
    if (trigger.used) return { ok: false, error: 'exchanged_trigger_id' };
    if (Date.now() - trigger.issuedAt > TRIGGER_TTL_MS) return { ok: false, error: 'expired_trigger_id' };
    const view = args.view;
    if (typeof view !== 'object' || view === null || (view as { type?: unknown }).type !== 'modal') return { ok: false, error: 'invalid_arguments' };
    trigger.used = true;
    const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
    this.views.push({ id, triggerId, view: view as Record<string, unknown> });
    return { ok: true, view: { id, team_id: this.options.teamId, app_id: this.options.appId, ...(view as Record<string, unknown>), state: { values: {} }, hash: randomBytes(6).toString('hex') } };
  }

  private history(args: Record<string, unknown>): Answer {
    const channel = args.channel;
    if (typeof channel !== 'string' || !this.messagesByChannel.has(channel)) return { ok: false, error: 'channel_not_found' };
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true' || args.include_all_metadata === '1';
    const limit = Math.min(Math.max(Number(args.limit ?? 100) || 100, 1), 999);
    const oldest = args.oldest !== undefined ? Number(args.oldest) : -Infinity;
    const latest = args.latest !== undefined ? Number(args.latest) : Infinity;
    const offset = typeof args.cursor === 'string' && args.cursor ? Number(Buffer.from(args.cursor, 'base64').toString('utf8').replace('offset:', '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) return { ok: false, error: 'invalid_cursor' };
    const inRange = this.messages(channel)
      .filter((m) => Number(m.ts) > oldest && Number(m.ts) < latest)
      .reverse();
    const page = inRange.slice(offset, offset + limit);
    const hasMore = offset + limit < inRange.length;
    return {
      ok: true,
      messages: page.map((m) => publicMessage(m, withMetadata)),
      has_more: hasMore,
      pin_count: 0,
      response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
    };
  }

  private userInfo(args: Record<string, unknown>): Answer {
    const user = this.options.users.find((u) => u.id === args.user);
    if (!user) return { ok: false, error: 'user_not_found' };
    return {
      ok: true,
      user: {
        id: user.id,
        team_id: user.teamId,
        name: user.name,
        deleted: user.deleted ?? false,
        is_bot: user.isBot ?? false,
        is_restricted: user.isRestricted ?? false,
        is_ultra_restricted: false,
        is_email_confirmed: user.emailConfirmed ?? true,
        profile: { real_name: user.name, display_name: user.name, ...(user.email ? { email: user.email } : {}) },
      },
    };
  }

  private nextTs(): string {
    // unique and increasing, like Slack's ts: seconds with six decimals
    const micros = Math.max(Date.now() * 1000, this.lastTs + 1);
    this.lastTs = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  // ---- Socket Mode ----

  private onSocket(ws: WebSocket): void {
    this.sockets.push(ws);
    ws.on('message', (data) => {
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return;
      }
      if (typeof message.envelope_id !== 'string') return;
      const ack: SocketAck = { envelopeId: message.envelope_id, payload: message.payload, at: Date.now() };
      this.acks.push(ack);
      this.ackWaiters.get(ack.envelopeId)?.(ack);
      this.ackWaiters.delete(ack.envelopeId);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.filter((s) => s.readyState === s.OPEN).length,
        debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 3600 },
        connection_info: { app_id: this.options.appId },
      }),
    );
    const waiters = this.connectionWaiters;
    this.connectionWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function publicMessage(message: FakeMessage, withMetadata: boolean): Record<string, unknown> {
  const { channel: _channel, updates: _updates, metadata, ...rest } = message;
  return { ...rest, ...(withMetadata && metadata ? { metadata } : {}) };
}

function isMetadata(value: unknown): value is { event_type: string; event_payload: Record<string, unknown> } {
  const m = value as { event_type?: unknown; event_payload?: unknown } | null;
  return typeof m === 'object' && m !== null && typeof m.event_type === 'string' && typeof m.event_payload === 'object' && m.event_payload !== null;
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  return match?.[1];
}

function parseArgs(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (contentType?.startsWith('application/json')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (JSON_FIELDS.has(key)) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // Slack would answer invalid_arguments; keeping the string lets the method refuse it
      }
    }
    args[key] = value;
  }
  return args;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
