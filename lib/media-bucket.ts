import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function.js';

/**
 * The key prefixes of `functions/core/media-ports.ts` (`inboundMediaKey`, `uploadKey`):
 * lib reads schemas only, so they are spelled again here, next to their lifecycle.
 */
export const MEDIA_PREFIXES = { inbound: 'media/', uploads: 'uploads/' } as const;

export interface MediaBucketProps {
  /** e.g. `whatsapp-dev`: names the bucket `{prefix}-media-{account}-{region}` (lowercase). */
  readonly prefix: string;
  /** Keep the bucket (and its files) when the stack is deleted. @default true */
  readonly retain?: boolean;
  /** How long an inbound file is kept. @default 90 days */
  readonly inboundRetention?: Duration;
  /** How long an agent's upload is kept (it is sent by a presigned link soon after). @default 1 day */
  readonly uploadRetention?: Duration;
}

/**
 * Media files (docs/architecture.md, "Media"): inbound files the media
 * consumer fetched from the Graph API, and files agents upload to send.
 * S3-managed encryption, every public access blocked, TLS only, bucket-owner
 * objects (no ACLs), no versioning (a key is written with the same bytes when
 * retried, and nothing here needs old versions), objects expiring by prefix.
 * Nobody reads it but our functions and the holders of a presigned URL of a
 * few minutes (`functions/adapters/s3/media-store.ts`).
 */
export class MediaBucket extends Construct {
  public readonly bucket: Bucket;
  /** Named, so the functions' grants name it (and its prefixes) in their own stack. */
  private readonly bucketName: string;

  constructor(scope: Construct, id: string, props: MediaBucketProps) {
    super(scope, id);
    const retain = props.retain ?? true;
    this.bucketName = `${props.prefix.toLowerCase()}-media-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: this.bucketName,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      lifecycleRules: [
        { id: 'inbound-media', prefix: MEDIA_PREFIXES.inbound, expiration: props.inboundRetention ?? Duration.days(90) },
        { id: 'uploads', prefix: MEDIA_PREFIXES.uploads, expiration: props.uploadRetention ?? Duration.days(1) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // The dashboard PUTs an upload and opens a file straight from the browser, through presigned URLs.
      cors: [{ allowedMethods: [HttpMethods.GET, HttpMethods.PUT], allowedOrigins: ['*'], allowedHeaders: ['content-type', 'content-length'], maxAge: 3000 }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No server access logs: every object is written by our functions (logged with the message it belongs to) and read only through presigned URLs of minutes that the API hands to authenticated agents; a logs bucket would hold a copy of every URL. Use CloudTrail S3 data events where an audit of reads is required.',
    });
  }

  /**
   * Access to the media objects (`s3:GetObject`, and `s3:PutObject` with
   * `readWrite`) under the two prefixes only, and `MEDIA_BUCKET_NAME` set.
   * Presigning needs no call: a presigned URL works as far as the signer's role does.
   */
  bindTo(fn: AppFunction, access: 'read' | 'readWrite' = 'readWrite'): void {
    const objects = Object.values(MEDIA_PREFIXES).map((prefix) => `arn:${Aws.PARTITION}:s3:::${this.bucketName}/${prefix}*`);
    fn.fn.addToRolePolicy(new PolicyStatement({ actions: access === 'readWrite' ? ['s3:GetObject', 's3:PutObject'] : ['s3:GetObject'], resources: objects }));
    fn.fn.addEnvironment('MEDIA_BUCKET_NAME', this.bucketName);
    for (const prefix of Object.values(MEDIA_PREFIXES)) {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${this.bucketName.replace(Aws.ACCOUNT_ID, '<AWS::AccountId>').replace(Aws.REGION, '<AWS::Region>')}/${prefix}*]`,
        reason: `Object keys are made at run time (one per message or upload): the grant is narrowed to the ${prefix} prefix of the media bucket.`,
      });
    }
  }
}
