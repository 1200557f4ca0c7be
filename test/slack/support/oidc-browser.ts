import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Starts oidc-code-provider.mjs in its own Node process (oidc-provider is ESM-only). */
export async function startCodeProvider(options: { port: number; clientId: string; clientSecret: string; redirectUri: string }): Promise<{ issuer: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(__dirname, 'oidc-code-provider.mjs'),
      '--port', String(options.port),
      '--directory', join(__dirname, '..', '..', 'support', 'users.json'),
      '--client-id', options.clientId,
      '--client-secret', options.clientSecret,
      '--redirect-uri', options.redirectUri,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const issuer = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the test OpenID provider exited: ${output}`);
    const ready = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (ready) return { issuer, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the test OpenID provider did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Plays the user's browser through the provider's sign-in: follows redirects with a cookie jar,
 * signs in as `accountId` on the login page, consents, and stops at the redirect to
 * `redirectUri`, whose full URL (with code and state) it returns.
 */
export async function signIn(authorizationUrl: string, accountId: string, redirectUri: string): Promise<string> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < 20; step += 1) {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: form } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    form = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, url).href;
      if (next.startsWith(redirectUri)) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !prompt || !action) throw new Error(`unexpected page at ${url} (HTTP ${res.status}): ${html.slice(0, 500)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    form = prompt === 'login' ? new URLSearchParams({ prompt, login: accountId, password: 'unused' }) : new URLSearchParams({ prompt });
  }
  throw new Error('the sign-in did not reach the redirect URI in 20 steps');
}
