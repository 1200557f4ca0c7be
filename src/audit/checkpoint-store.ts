import { mkdirSync, openSync, closeSync, fsyncSync, writeSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Collection } from 'mongodb';
import { checkpointText, openNote, parseCheckpointText, signNote, type NoteSigner, type NoteVerifier } from './checkpoint';
import { stateRoot } from './merkle';
import type { ChainHead } from './sequencer';

/**
 * Signed checkpoints of each instance's tree, kept in MongoDB (for queries and the evidence
 * export) and outside it: a directory the operator points at write-once storage. A checkpoint
 * file is created once and never rewritten.
 */

export interface CheckpointRecord {
  instanceId: string;
  size: number;
  /** hex */
  root: string;
  /** the C2SP signed note */
  note: string;
  time: Date;
}

export interface CheckpointSink {
  readonly name: string;
  write(record: CheckpointRecord): Promise<void>;
}

export function signCheckpoint(signer: NoteSigner, instanceId: string, head: ChainHead, time: Date): CheckpointRecord {
  const root = stateRoot(head.tree);
  const note = signNote(checkpointText({ origin: originOf(signer.name, instanceId), size: head.tree.size, root }), signer);
  return { instanceId, size: head.tree.size, root: root.toString('hex'), note, time };
}

/** One log per instance: the key name, then the instance id. */
export function originOf(keyName: string, instanceId: string): string {
  return `${keyName}/${instanceId}`;
}

export class MongoCheckpointSink implements CheckpointSink {
  readonly name = 'mongodb';
  constructor(private readonly checkpoints: Collection<CheckpointRecord>) {}

  async write(record: CheckpointRecord): Promise<void> {
    // the same size signed twice (a restart with nothing new) is the same checkpoint
    await this.checkpoints.updateOne({ instanceId: record.instanceId, size: record.size, root: record.root }, { $setOnInsert: record }, { upsert: true });
  }
}

export class DirectoryCheckpointSink implements CheckpointSink {
  readonly name = 'directory';
  constructor(private readonly dir: string) {}

  write(record: CheckpointRecord): Promise<void> {
    const folder = join(this.dir, safeName(record.instanceId));
    mkdirSync(folder, { recursive: true });
    const path = join(folder, checkpointFileName(record));
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return Promise.resolve();
      throw err;
    }
    try {
      writeSync(fd, record.note);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return Promise.resolve();
  }
}

/** A checkpoint read back and opened with the trusted keys, or why it could not be. */
export type ReadCheckpoint = { ok: true; instanceId: string; size: number; root: Buffer; source: string } | { ok: false; source: string; reason: string };

/** Opens a note with the trusted keys and checks that it is a checkpoint of this instance's log. */
export function readCheckpoint(note: string, verifiers: readonly NoteVerifier[], source: string): ReadCheckpoint {
  const opened = openNote(note, verifiers);
  if (!opened.ok) return { ok: false, source, reason: opened.reason };
  try {
    const cp = parseCheckpointText(opened.text);
    const instanceId = verifiers.map((v) => instanceOf(v.name, cp.origin)).find((i) => i !== undefined);
    if (instanceId === undefined) return { ok: false, source, reason: `origin ${cp.origin} is not a vecgate audit log of a trusted key` };
    return { ok: true, instanceId, size: cp.size, root: cp.root, source };
  } catch (err) {
    return { ok: false, source, reason: (err as Error).message };
  }
}

/** A checkpoint note as read from one of its places, named by where it was read. */
export interface CheckpointNote {
  source: string;
  note: string;
}

/** The same name in the directory and the bucket: sorted by size, unique per root. */
export function checkpointFileName(record: Pick<CheckpointRecord, 'size' | 'root'>): string {
  return `${String(record.size).padStart(16, '0')}-${record.root.slice(0, 16)}.note`;
}

/** Every checkpoint note in a checkpoint directory, by file. */
export function notesInDirectory(dir: string): CheckpointNote[] {
  let folders: string[];
  try {
    folders = readdirSync(dir);
  } catch {
    return [];
  }
  return folders.flatMap((folder) =>
    readdirSync(join(dir, folder))
      .filter((f) => f.endsWith('.note'))
      .map((f) => ({ source: join(folder, f), note: readFileSync(join(dir, folder, f), 'utf8') })),
  );
}

function instanceOf(keyName: string, origin: string): string | undefined {
  const prefix = `${keyName}/`;
  return origin.startsWith(prefix) && origin.length > prefix.length ? origin.slice(prefix.length) : undefined;
}

export function safeName(instanceId: string): string {
  return instanceId.replace(/[^A-Za-z0-9._-]/g, '_');
}
