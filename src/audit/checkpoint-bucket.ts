import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type ObjectLockMode,
} from '@aws-sdk/client-s3';
import type { Clock } from '../clock';
import type { BucketCredentials } from '../config/load';
import type { AuditConfig } from '../config/schema';
import { checkpointFileName, safeName, type CheckpointNote, type CheckpointRecord, type CheckpointSink } from './checkpoint-store';

/**
 * Checkpoints in an S3-compatible bucket with Object Lock: each one a new object, locked on
 * write (COMPLIANCE or GOVERNANCE) until its retention date, never overwritten. The bucket is
 * the copy that neither MongoDB credentials nor the gateway's own (put-only) credentials can
 * change: a version, once written, stays readable until its retention ends.
 */

export interface CheckpointBucketSettings {
  bucket: string;
  prefix: string;
  region: string;
  /** an S3-compatible store other than AWS */
  endpoint?: string;
  mode: ObjectLockMode;
  retentionDays: number;
  timeoutMs: number;
  credentials: BucketCredentials;
}

export function checkpointBucketSettings(s3: NonNullable<AuditConfig['checkpoints']['s3']>, credentials: BucketCredentials): CheckpointBucketSettings {
  return {
    bucket: s3.bucket,
    prefix: s3.prefix,
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    mode: s3.mode,
    retentionDays: s3.retentionDays,
    timeoutMs: s3.timeoutSeconds * 1000,
    credentials,
  };
}

export function checkpointBucketClient(settings: CheckpointBucketSettings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    // a copy: the SDK marks where credentials came from on the object it is given
    credentials: { ...settings.credentials },
    // the outbox retries on its own schedule; one quick retry here covers a dropped connection
    maxAttempts: 2,
    requestHandler: { connectionTimeout: settings.timeoutMs, requestTimeout: settings.timeoutMs },
    // Content-MD5 (which Object Lock requires) is sent by us; the SDK's streamed CRC trailers are
    // not understood by every S3-compatible store
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function bucketKey(prefix: string, record: Pick<CheckpointRecord, 'instanceId' | 'size' | 'root'>): string {
  return `${prefix}${safeName(record.instanceId)}/${checkpointFileName(record)}`;
}

export class BucketCheckpointSink implements CheckpointSink {
  readonly name = 's3';
  /** false once the store answered that it does not do conditional writes: HEAD is the guard then */
  private conditionalWrites = true;

  constructor(
    private readonly s3: S3Client,
    private readonly settings: CheckpointBucketSettings,
    private readonly clock: Clock,
  ) {}

  async write(record: CheckpointRecord): Promise<void> {
    const key = bucketKey(this.settings.prefix, record);
    if (await this.exists(key)) return;
    const body = Buffer.from(record.note, 'utf8');
    const put = (ifNoneMatch: boolean) =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.settings.bucket,
          Key: key,
          Body: body,
          ContentType: 'text/plain; charset=utf-8',
          ContentMD5: createHash('md5').update(body).digest('base64'),
          ObjectLockMode: this.settings.mode,
          ObjectLockRetainUntilDate: new Date(this.clock.now() + this.settings.retentionDays * 86_400_000),
          ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
        }),
        { abortSignal: AbortSignal.timeout(this.settings.timeoutMs) },
      );
    try {
      await put(this.conditionalWrites);
    } catch (err) {
      // written meanwhile (by a retry that landed after its answer was lost): never overwritten
      if (statusOf(err) === 412) return;
      if (!this.conditionalWrites || !(statusOf(err) === 501 || nameOf(err) === 'NotImplemented')) throw err;
      this.conditionalWrites = false;
      await put(false);
    }
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }), { abortSignal: AbortSignal.timeout(this.settings.timeoutMs) });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }
}

/**
 * Every version of every checkpoint object under the prefix: a version hidden under a delete
 * marker or a later upload is read too, so neither hides a checkpoint from `vecgate audit verify`.
 */
export async function notesInBucket(s3: S3Client, settings: Pick<CheckpointBucketSettings, 'bucket' | 'prefix' | 'timeoutMs'>): Promise<CheckpointNote[]> {
  const versions: Array<{ key: string; versionId: string | undefined }> = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: settings.bucket, Prefix: settings.prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(versionMarker ? { VersionIdMarker: versionMarker } : {}) }),
      { abortSignal: AbortSignal.timeout(settings.timeoutMs) },
    );
    for (const v of page.Versions ?? []) if (v.Key?.endsWith('.note')) versions.push({ key: v.Key, versionId: v.VersionId });
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
  const notes: CheckpointNote[] = [];
  // a few reads at a time: a year of checkpoints is many small objects
  for (let i = 0; i < versions.length; i += 16) {
    notes.push(
      ...(await Promise.all(
        versions.slice(i, i + 16).map(async ({ key, versionId }) => {
          const got = await s3.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key, ...(versionId && versionId !== 'null' ? { VersionId: versionId } : {}) }), {
            abortSignal: AbortSignal.timeout(settings.timeoutMs),
          });
          const note = (await got.Body?.transformToString('utf8')) ?? '';
          return { source: `s3:${settings.bucket}/${key}${versionId && versionId !== 'null' ? `#${versionId}` : ''}`, note };
        }),
      )),
    );
  }
  return notes;
}

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string | undefined {
  return (err as { name?: string }).name;
}
