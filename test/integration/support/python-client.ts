import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { testStack } from '../../support/stack';

/** One call of the official Python client; see test/integration/python/official_client.py. */
export type PythonStep =
  | { op: 'heartbeat' }
  | { op: 'create_collection' | 'get_collection' | 'count'; name: string }
  | { op: 'add'; name: string; ids: string[]; embeddings: number[][]; documents?: string[]; metadatas?: unknown[] }
  | { op: 'query'; name: string; query_embeddings: number[][]; n_results: number }
  | { op: 'get'; name: string; ids: string[]; include?: string[] }
  | { op: 'peek'; name: string; limit?: number };

export interface PythonRun {
  /** one per step that ran; integers beyond 2**53 arrive as {"int": "<digits>"} */
  results: unknown[];
  /** the exception the client raised, with its class name (chromadb.errors.*) */
  error?: { step: string; type: string; message: string };
}

const SCRIPT = join(__dirname, '..', 'python', 'official_client.py');

/**
 * Runs the steps with `chromadb.HttpClient(host, port, headers={"Authorization": "Bearer TOKEN"})`
 * in the venv of the current Chroma release (PyPI chromadb), and returns what the script printed.
 */
export async function runPythonClient(target: { host: string; port: number; token: string }, steps: PythonStep[]): Promise<PythonRun> {
  const child = spawn(testStack().chromaPython, [SCRIPT], {
    // no telemetry, and no model downloads even if a step forgot its embeddings
    env: { PATH: process.env.PATH ?? '', ANONYMIZED_TELEMETRY: 'False', HF_HUB_OFFLINE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.end(JSON.stringify({ ...target, steps }));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const stdout = Buffer.concat(out).toString('utf8');
  if (code !== 0) throw new Error(`official_client.py exited with ${code}:\n${Buffer.concat(err).toString('utf8').slice(-3000)}`);
  return JSON.parse(stdout) as PythonRun;
}
