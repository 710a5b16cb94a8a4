import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** S3's smallest part (all but the last). Parts of 8 MiB: few requests, bounded memory. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

export interface UploadTarget {
  readonly bucket: string;
  readonly key: string;
  /** SSE-KMS key of the object (the bucket's default key is the same CMK in AWS). */
  readonly kmsKeyId: string;
  readonly metadata?: Record<string, string>;
  readonly partBytes?: number;
}

/**
 * Streams bytes to one S3 object by multipart upload, holding at most one part in memory, and
 * computes the SHA-256 and size of exactly what it stored. `abort()` after a failure, so no
 * half-written upload lingers (the bucket's lifecycle rule cleans up after a crash too).
 */
export class MultipartUpload {
  private readonly hash = createHash('sha256');
  private readonly parts: CompletedPart[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private uploadId: string | undefined;
  private size = 0;
  private readonly partBytes: number;

  constructor(
    private readonly s3: S3Client,
    private readonly target: UploadTarget,
  ) {
    this.partBytes = target.partBytes ?? DEFAULT_PART_BYTES;
    if (this.partBytes < MIN_PART_BYTES) throw new Error(`parts must be at least ${MIN_PART_BYTES} bytes`);
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    this.size += bytes.byteLength;
    this.pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.pendingBytes += bytes.byteLength;
    if (this.pendingBytes >= this.partBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    const body = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.uploadId === undefined) {
      const created = await this.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: this.target.bucket,
          Key: this.target.key,
          ContentType: 'application/octet-stream',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: this.target.kmsKeyId,
          BucketKeyEnabled: true,
          ...(this.target.metadata ? { Metadata: this.target.metadata } : {}),
        }),
      );
      if (!created.UploadId) throw new Error('S3 started no multipart upload');
      this.uploadId = created.UploadId;
    }
    const PartNumber = this.parts.length + 1;
    const part = await this.s3.send(
      new UploadPartCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        PartNumber,
        Body: body,
      }),
    );
    this.parts.push({ PartNumber, ETag: part.ETag });
  }

  /** Uploads what is left and completes the object; its size and SHA-256 (hex). */
  async complete(): Promise<{ size: number; sha256: string }> {
    if (this.pendingBytes > 0 || this.parts.length === 0) await this.flush();
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: this.parts },
      }),
    );
    return { size: this.size, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    if (this.uploadId === undefined) return;
    await this.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
      }),
    );
    this.uploadId = undefined;
  }
}
