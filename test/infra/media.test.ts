/**
 * Media in the CDK app: the media bucket in the stateful stack (S3-managed
 * encryption, every public access blocked, TLS only, no versioning, objects
 * expiring by prefix, kept outside dev), the `media` bus rule with the shared
 * pattern onto its own queue, the media consumer on it with the Graph API
 * token by ARN and read/write on the bucket's two prefixes only, and the API
 * allowed to presign GETs and PUTs there.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../schemas/routes.js';
import { synthApp } from '../support/cdk.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

const of = (resources: Record<string, Resource>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

function stacksOf(context: Record<string, unknown> = {}) {
  const { stateful, stateless } = synthApp(context);
  return {
    stateful: Template.fromStack(stateful).toJSON().Resources as Record<string, Resource>,
    stateless: Template.fromStack(stateless).toJSON().Resources as Record<string, Resource>,
  };
}

const dev = stacksOf();
const buckets = of(dev.stateful, 'AWS::S3::Bucket');
const mediaBucket = buckets.find(([id]) => id.startsWith('MediaBucket'));
const functions = of(dev.stateless, 'AWS::Lambda::Function');
const fnOf = (service: string) => functions.find(([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service);

function statementsOf(resources: Record<string, Resource>, fnEntry: [string, Resource]) {
  const roleId = fnEntry[1].Properties.Role['Fn::GetAtt'][0] as string;
  return of(resources, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const s3Statements = (fnEntry: [string, Resource]) =>
  statementsOf(dev.stateless, fnEntry).filter((s) => [s.Action].flat().some((action) => action.startsWith('s3:')));

describe('the media bucket', () => {
  it('is encrypted, blocks every public access, keeps no versions and owns its objects', () => {
    expect(mediaBucket, 'a media bucket in the stateful stack').toBeDefined();
    const bucket = mediaBucket![1].Properties;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.VersioningConfiguration).toBeUndefined();
    expect(bucket.OwnershipControls.Rules[0].ObjectOwnership).toBe('BucketOwnerEnforced');
  });

  it('refuses requests without TLS', () => {
    const policies = of(dev.stateful, 'AWS::S3::BucketPolicy').filter(([, p]) => p.Properties.Bucket.Ref === mediaBucket![0]);
    const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it('expires inbound files after 90 days and uploads after 1 day', () => {
    const rules = mediaBucket![1].Properties.LifecycleConfiguration.Rules as { Prefix?: string; ExpirationInDays?: number; Status: string }[];
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'media/', ExpirationInDays: 90, Status: 'Enabled' }));
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 1, Status: 'Enabled' }));
  });

  it('is deleted with a dev stack and retained in any other stage', () => {
    expect(mediaBucket![1].DeletionPolicy).toBe('Delete');
    const prod = stacksOf({ stage: 'prod' });
    const retained = of(prod.stateful, 'AWS::S3::Bucket').find(([id]) => id.startsWith('MediaBucket'));
    expect(retained![1].DeletionPolicy).toBe('Retain');
    expect(JSON.stringify(retained![1].Properties.BucketName)).toContain('whatsapp-prod-media-');
  });
});

describe('the media consumer', () => {
  const mediaFn = fnOf('media');

  it('gets media messages over its own rule and queue, with the shared pattern', () => {
    const rule = of(dev.stateful, 'AWS::Events::Rule').find(([id]) => id.startsWith('MediaQueueRule'));
    expect(rule, 'the media queue rule').toBeDefined();
    expect(rule![1].Properties.EventPattern).toEqual(plain(RULES.media));
    expect(rule![1].Properties.Targets[0].DeadLetterConfig.Arn).toBeDefined();
    const queue = dev.stateful[rule![1].Properties.Targets[0].Arn['Fn::GetAtt'][0] as string]!;
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(queue.Properties.VisibilityTimeout).toBe(mediaFn![1].Properties.Timeout * 6);
    const mappings = of(dev.stateless, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === mediaFn![0]);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('reads the access token by ARN and knows the bucket and the table', () => {
    const variables = mediaFn![1].Properties.Environment.Variables as Record<string, unknown>;
    expect(variables.WHATSAPP_ACCESS_TOKEN_SECRET_ARN).toBeDefined();
    expect(variables.WHATSAPP_ACCESS_TOKEN).toBeUndefined();
    expect(JSON.stringify(variables.MEDIA_BUCKET_NAME)).toContain('whatsapp-dev-media-');
    expect(variables.TABLE_NAME).toBeDefined();
    expect(mediaFn![1].Properties.MemorySize).toBeGreaterThanOrEqual(1024);
  });

  it('may get and put objects under the media/ and uploads/ prefixes, nothing else of S3', () => {
    const statements = s3Statements(mediaFn!);
    expect(statements).toHaveLength(1);
    expect([statements[0]!.Action].flat().sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    const resources = JSON.stringify(statements[0]!.Resource);
    expect(resources).toContain('/media/*');
    expect(resources).toContain('/uploads/*');
    expect(resources).not.toMatch(/"\*"|:::\*/);
  });
});

describe('the API', () => {
  it('may presign GETs and PUTs of media objects (the same two prefixes)', () => {
    const api = fnOf('api');
    const statements = s3Statements(api!);
    expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(JSON.stringify(api![1].Properties.Environment.Variables.MEDIA_BUCKET_NAME)).toContain('-media-');
  });
});
