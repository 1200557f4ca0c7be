import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { parseVerifierKey, type NoteVerifier } from '../audit/checkpoint';
import { readCheckpoint } from '../audit/checkpoint-store';
import { verifyConsistency, verifyInclusion } from '../audit/merkle';
import { recomputeHash } from '../audit/sequencer';
import { replayBundleHistories } from './approvals';
import { checkManifestSignature, MANIFEST, SIGNATURE, type Manifest } from './manifest';
import { TRAIL, type Verification } from './trail-section';

/**
 * `vecgate evidence verify DIR`: the bundle checked offline, with nothing but its own files. The
 * manifest's signature (and, given --key, that the signer is the expected key); every file's
 * sha256, none missing, none added; the trail inside (each event's hash recomputed, the chain
 * linked without gaps, the first and last events proven in the signed checkpoints, the chain
 * consistent with the previous bundle's); and every approval history replayed against the
 * workflow code. Each problem names the file, and for the trail the instance and seq.
 */

export interface BundleProblem {
  file: string;
  message: string;
  instanceId?: string;
  seq?: number;
}

export interface BundleVerdict {
  ok: boolean;
  /** the manifest signer's fingerprint, when the signature holds */
  fingerprint?: string;
  /** whether --key named the signer, or the key inside the bundle was trusted as is */
  keyChecked: boolean;
  problems: BundleProblem[];
  /** what was checked, for people */
  lines: string[];
  /** the trail verdict recorded at export */
  trailVerdict?: Verification['verdict'];
}

export async function verifyBundle(dir: string, options: { key?: string } = {}): Promise<BundleVerdict> {
  const problems: BundleProblem[] = [];
  const lines: string[] = [];
  const verdict = (): BundleVerdict => ({ ok: problems.length === 0, keyChecked: options.key !== undefined, problems, lines });
  if (!existsSync(dir)) {
    problems.push({ file: dir, message: 'no such directory' });
    return verdict();
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
    if (!Array.isArray(manifest.files) || !manifest.signature) throw new Error('it lacks files or signature');
  } catch (err) {
    problems.push({ file: MANIFEST, message: `missing or unreadable: ${(err as Error).message}` });
    return verdict();
  }
  let signature = '';
  try {
    signature = readFileSync(join(dir, SIGNATURE), 'utf8');
  } catch {
    problems.push({ file: SIGNATURE, message: 'missing: the manifest is not signed' });
  }
  let fingerprint: string | undefined;
  if (signature) {
    const sig = checkManifestSignature(manifest, signature, options.key);
    if (sig.ok) {
      fingerprint = sig.fingerprint;
      lines.push(`signature: manifest.json signed by ${manifest.signature.keyName}, key fingerprint ${sig.fingerprint}${options.key ? ' (the expected key)' : ' (the key inside the bundle: compare it with the published fingerprint, or pass --key)'}`);
    } else {
      problems.push({ file: sig.reason.startsWith(MANIFEST) ? MANIFEST : SIGNATURE, message: sig.reason.replace(/^manifest\.(json|sig): /, '') });
    }
  }

  // every file on disk against the manifest
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  const onDisk = new Set(walk(dir));
  for (const path of onDisk) {
    if (path === MANIFEST || path === SIGNATURE) continue;
    if (!listed.has(path)) problems.push({ file: path, message: 'extra file: the manifest does not list it' });
  }
  for (const f of manifest.files) {
    if (!onDisk.has(f.path)) {
      problems.push({ file: f.path, message: 'missing: the manifest lists it' });
      continue;
    }
    const actual = await hashFile(join(dir, ...f.path.split('/')));
    if (actual.sha256 !== f.sha256 || actual.bytes !== f.bytes) problems.push({ file: f.path, message: `changed: sha256 ${actual.sha256} (${actual.bytes} bytes), the manifest says ${f.sha256} (${f.bytes} bytes)` });
  }
  lines.push(`files: ${manifest.files.length} listed, ${onDisk.size} on disk`);

  const trail = await verifyTrailInside(dir, manifest, onDisk, problems, lines);
  const histories = manifest.files.map((f) => f.path).filter((p) => p.startsWith('approvals/histories/') && onDisk.has(p));
  if (histories.length > 0) {
    for (const r of await replayBundleHistories(dir, histories)) if (!r.ok) problems.push({ file: r.path, message: `the history does not replay against the approval workflow: ${r.error ?? 'unknown error'}` });
    lines.push(`approvals: ${histories.length} workflow history(ies) replayed against the workflow code`);
  }
  return { ...verdict(), ...(fingerprint ? { fingerprint } : {}), ...(trail ? { trailVerdict: trail } : {}) };
}

interface InstanceState {
  expected: number;
  prevHash: string | undefined;
  count: number;
  leaves: Map<number, string>;
}

async function verifyTrailInside(dir: string, manifest: Manifest, onDisk: ReadonlySet<string>, problems: BundleProblem[], lines: string[]): Promise<Verification['verdict'] | undefined> {
  if (!onDisk.has(TRAIL.verification) || !onDisk.has(TRAIL.events)) return undefined;
  let verification: Verification;
  try {
    verification = JSON.parse(readFileSync(join(dir, TRAIL.verification), 'utf8')) as Verification;
  } catch (err) {
    problems.push({ file: TRAIL.verification, message: `unreadable: ${(err as Error).message}` });
    return undefined;
  }
  const verifiers: NoteVerifier[] = [];
  for (const k of verification.checkpointKeys ?? []) {
    try {
      verifiers.push(parseVerifierKey(k));
    } catch (err) {
      problems.push({ file: TRAIL.verification, message: `checkpoint key ${k}: ${(err as Error).message}` });
    }
  }
  const wanted = new Map(verification.instances.map((i) => [i.instanceId, i]));
  const state = new Map<string, InstanceState>();
  let lineNo = 0;
  const input = createInterface({ input: createReadStream(join(dir, ...TRAIL.events.split('/'))), crlfDelay: Infinity });
  for await (const line of input) {
    lineNo += 1;
    if (line === '') continue;
    let e: Record<string, unknown> & { instanceId?: string; seq?: number; hash?: string; prevHash?: string };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      problems.push({ file: TRAIL.events, message: `line ${lineNo} is not JSON` });
      continue;
    }
    const id = String(e.instanceId);
    const seq = Number(e.seq);
    const at = { file: TRAIL.events, instanceId: id, seq };
    const range = wanted.get(id);
    if (!range) {
      problems.push({ ...at, message: `line ${lineNo}: instance ${id} is not in ${TRAIL.verification}` });
      continue;
    }
    const s = state.get(id) ?? { expected: range.firstSeq, prevHash: undefined, count: 0, leaves: new Map<number, string>() };
    state.set(id, s);
    const hash = recomputeHash(e);
    if (hash !== e.hash) problems.push({ ...at, message: `instance ${id} seq ${seq}: the event was changed: its content no longer matches its hash` });
    if (seq !== s.expected) problems.push({ ...at, message: seq > s.expected ? `instance ${id}: events ${s.expected}-${seq - 1} are missing before seq ${seq}` : `instance ${id} seq ${seq}: out of order or repeated` });
    else if (s.prevHash !== undefined && e.prevHash !== s.prevHash) problems.push({ ...at, message: `instance ${id} seq ${seq}: does not link to seq ${seq - 1} (prevHash differs)` });
    else if (seq === 1 && e.prevHash !== '') problems.push({ ...at, message: `instance ${id} seq 1: the first event must not link to an earlier one` });
    if (seq === range.firstSeq || seq === range.lastSeq) s.leaves.set(seq, hash);
    s.prevHash = typeof e.hash === 'string' ? e.hash : '';
    s.expected = Math.max(s.expected, seq + 1);
    s.count += 1;
  }

  const checkpointOf = new Map(manifest.checkpoints.map((c) => [c.instanceId, c]));
  for (const inst of verification.instances) {
    const s = state.get(inst.instanceId);
    const at = { file: TRAIL.events, instanceId: inst.instanceId };
    if (!s || s.expected !== inst.lastSeq + 1) {
      problems.push({ ...at, seq: s ? s.expected : inst.firstSeq, message: `instance ${inst.instanceId}: events ${s ? s.expected : inst.firstSeq}-${inst.lastSeq} are missing at the end` });
      continue;
    }
    const cp = inst.checkpoint;
    const listed = checkpointOf.get(inst.instanceId);
    if (!cp) {
      lines.push(`trail: instance ${inst.instanceId}: events ${inst.firstSeq}-${inst.lastSeq} chained; no signed checkpoint in the bundle proves them`);
      continue;
    }
    if (!listed || listed.size !== cp.size || listed.root !== cp.root || listed.note !== cp.note) {
      problems.push({ file: TRAIL.verification, instanceId: inst.instanceId, message: `instance ${inst.instanceId}: its checkpoint differs from the one manifest.json names` });
      continue;
    }
    const opened = openBundledNote(dir, cp.note, verifiers);
    if (!opened.ok) {
      problems.push({ file: cp.note, instanceId: inst.instanceId, message: opened.reason });
      continue;
    }
    if (opened.instanceId !== inst.instanceId || opened.size !== cp.size || opened.root.toString('hex') !== cp.root) {
      problems.push({ file: cp.note, instanceId: inst.instanceId, message: `the signed note is of ${opened.instanceId} size ${opened.size}, not of ${inst.instanceId} size ${cp.size} with the root ${TRAIL.verification} names` });
      continue;
    }
    const proven: number[] = [];
    for (const p of inst.inclusion) {
      const leaf = s.leaves.get(p.seq);
      const v = leaf ? verifyInclusion(p.seq - 1, cp.size, Buffer.from(leaf, 'hex'), p.proof.map((h) => Buffer.from(h, 'hex')), opened.root) : { ok: false as const, reason: 'the event is not in the bundle' };
      if (v.ok) proven.push(p.seq);
      else problems.push({ file: TRAIL.events, instanceId: inst.instanceId, seq: p.seq, message: `instance ${inst.instanceId} seq ${p.seq}: not included in signed checkpoint ${cp.size}: ${v.reason}` });
    }
    let consistent = '';
    if (inst.consistency) {
      const c = inst.consistency;
      const from = openBundledNote(dir, c.fromNote, verifiers);
      const v = !from.ok
        ? from
        : from.instanceId !== inst.instanceId || from.size !== c.fromSize || from.root.toString('hex') !== c.fromRoot
          ? { ok: false as const, reason: `${c.fromNote} is not the checkpoint the proof starts from` }
          : verifyConsistency(c.fromSize, cp.size, from.root, opened.root, c.proof.map((h) => Buffer.from(h, 'hex')));
      if (v.ok) consistent = `, consistent with the previous bundle's checkpoint ${c.fromSize}`;
      else problems.push({ file: TRAIL.verification, instanceId: inst.instanceId, message: `instance ${inst.instanceId}: no consistency from checkpoint ${c.fromSize} to ${cp.size}: ${v.reason}` });
    }
    lines.push(`trail: instance ${inst.instanceId}: events ${inst.firstSeq}-${inst.lastSeq} (${s.count}) hash and link; seq ${proven.join(', ') || 'none'} proven in checkpoint ${cp.size}${consistent}`);
  }
  // the audit key travels in the bundle: an auditor compares it with the published verifier key
  if (verifiers.length > 0) lines.push(`trail: checkpoint notes checked with the audit verifier key(s) ${verification.checkpointKeys.join(', ')} that ${TRAIL.verification} holds (signed into the manifest): compare with the published audit key`);
  if (verification.verdict === 'failed') problems.push({ file: TRAIL.verification, message: `the export found tampering or loss in the store: ${verification.verdictLines.slice(0, 3).join('; ')}` });
  if (verification.verdict === 'unverified') lines.push('trail: unverified at export: some events are chained but no signed checkpoint proves them');
  return verification.verdict;
}

function openBundledNote(dir: string, path: string, verifiers: readonly NoteVerifier[]): ReturnType<typeof readCheckpoint> {
  let note: string;
  try {
    note = readFileSync(join(dir, ...path.split('/')), 'utf8');
  } catch {
    return { ok: false, source: path, reason: `${path} is missing` };
  }
  const opened = readCheckpoint(note, verifiers, path);
  return opened.ok ? opened : { ...opened, reason: `the checkpoint note does not open with the audit keys: ${opened.reason}` };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) visit(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  visit(dir);
  return out;
}

function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    let bytes = 0;
    createReadStream(path)
      .on('data', (chunk) => {
        hash.update(chunk);
        bytes += chunk.length;
      })
      .on('error', fail)
      .on('end', () => done({ sha256: hash.digest('hex'), bytes }));
  });
}

export function verdictText(v: BundleVerdict): string {
  const out = [...v.lines];
  for (const p of v.problems) out.push(`FAIL ${p.file}${p.instanceId !== undefined ? ` [instance ${p.instanceId}${p.seq !== undefined ? ` seq ${p.seq}` : ''}]` : ''}: ${p.message}`);
  out.push(v.ok ? `verdict: the bundle is intact${v.trailVerdict === 'unverified' ? ' (its trail is unverified: see above)' : ''}` : `verdict: THE BUNDLE WAS CHANGED OR IS INCOMPLETE (${v.problems.length} problem(s) above)`);
  return `${out.join('\n')}\n`;
}
