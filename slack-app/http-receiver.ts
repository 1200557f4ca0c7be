import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, type App, type Logger as BoltLogger, type Receiver } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Clock } from '../src/clock';
import type { RequestHandler } from './link/callback-route';
import { checkSlackSignature } from './signature';

/** Where Slack posts interactive payloads and slash commands (the app's Request URL). */
export const EVENTS_PATH = '/slack/events';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface VerifiedHttpReceiverOptions {
  signingSecret: string;
  host: string;
  port: number;
  clock: Clock;
  logger: Logger;
  boltLogger: BoltLogger;
  /** other GET routes on the same server, by exact path (the link callback) */
  routes?: Record<string, RequestHandler>;
  maxBodyBytes?: number;
}

/**
 * Bolt's HTTPReceiver behind a gate of our own. The gate reads the raw body once and checks the
 * signature and a five-minute window in both directions with the injected clock; then Bolt gets
 * the same raw bytes and verifies them again with its own check (signatureVerification stays on).
 * Either refusal answers 401 before any listener runs.
 */
export class VerifiedHttpReceiver implements Receiver {
  private readonly bolt: HTTPReceiver;
  private readonly options: VerifiedHttpReceiverOptions;
  private server: Server | undefined;

  constructor(options: VerifiedHttpReceiverOptions) {
    this.options = options;
    this.bolt = new HTTPReceiver({
      signingSecret: options.signingSecret,
      signatureVerification: true,
      // answer on ack(): listeners ack first and work afterwards, within Slack's 3 seconds
      processBeforeResponse: false,
      endpoints: EVENTS_PATH,
      logger: options.boltLogger,
    });
  }

  init(app: App): void {
    this.bolt.init(app);
  }

  start(): Promise<Server> {
    if (this.server) return Promise.reject(new Error('the Slack HTTP receiver is already started'));
    // Slack sends small bodies at once; a slow sender only holds a connection
    const server = createServer({ headersTimeout: 5_000, requestTimeout: 10_000 }, (req, res) => this.route(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** where the server listens, once started */
  address(): { host: string; port: number } | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? { host: address.address, port: address.port } : undefined;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://receiver.invalid').pathname;
    if (path === EVENTS_PATH && req.method === 'POST') {
      this.verifyThenDispatch(req, res).catch((err: unknown) => {
        this.options.logger.error({ event: 'slack.receiver_failed', err }, 'Slack request handling failed');
        if (!res.headersSent) reply(res, 500);
      });
      return;
    }
    const handler = this.options.routes?.[path];
    if (handler) {
      handler(req, res);
      return;
    }
    reply(res, 404);
  }

  private async verifyThenDispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (!rawBody) {
      reply(res, 413);
      return;
    }
    const problem = checkSlackSignature(
      { rawBody, timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature') },
      this.options.signingSecret,
      this.options.clock.now(),
    );
    if (problem) {
      this.options.logger.warn({ event: 'slack.request_refused', problem, remote: req.socket.remoteAddress }, 'Slack request refused: signature check failed');
      reply(res, 401);
      return;
    }
    // Bolt reuses a buffered body (rawBody) instead of reading the stream again
    Object.assign(req, { rawBody });
    this.bolt.requestListener(req, res);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function reply(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** The body as sent, or undefined when it is larger than maxBytes. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
