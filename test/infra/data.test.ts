import { Match } from 'aws-cdk-lib/assertions';
import { ProjectionType } from 'aws-cdk-lib/aws-dynamodb';
import { FUNCTIONS, QUEUES, TABLES } from '../../contract/resources';
import { STAGE_SETTINGS, STAGES, type Stage } from '../../contract/stages';
import { projectionType } from '../../infra/constructs/data';
import { asArray, logicalId, resource, resources, stagesBuiltOnce, TEST_ENV } from './build';

const DAY = 24 * 3600;
const stagesUnderTest: Stage[] = ['dev', 'prod'];
const get = stagesBuiltOnce(stagesUnderTest);

const sslDeny = Match.objectLike({
  Effect: 'Deny',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe.each(stagesUnderTest)('data and messaging in %s', (stage) => {
  const settings = STAGE_SETTINGS[stage];

  test('the customer-managed key rotates', () => {
    const { template } = get(stage);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('CloudWatch may use the key for the encrypted alarm topics, nothing more', () => {
    const { template } = get(stage);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': TEST_ENV.account } },
          }),
        ]),
      },
    });
  });

  test('one table per definition, on demand, PITR on, encrypted with the CMK', () => {
    const { stack, template } = get(stage);
    template.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: settings.protectData,
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] },
      },
    });
  });

  test('every table holding personal data or short-lived state expires items by expires_at', () => {
    const { stack, template } = get(stage);
    for (const id of ['leads', 'conversions', 'audit', 'dedup', 'rateLimits', 'system'] as const) {
      const props = resource(template, logicalId(stack, stack.data.tables.get(id))).Properties ?? {};
      expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
    }
  });

  test.each(TABLES.map((t) => [t.id, t] as const))(
    'table %s: keys, TTL, GSIs and removal policy',
    (id, table) => {
      const { stack, template } = get(stage);
      const cfn = resource(template, logicalId(stack, stack.data.tables.get(id)));
      expect(cfn.DeletionPolicy).toBe(settings.protectData ? 'Retain' : 'Delete');
      const props = cfn.Properties ?? {};
      expect(props.KeySchema).toEqual([
        { AttributeName: table.partitionKey, KeyType: 'HASH' },
        ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' }] : []),
      ]);
      expect(props.TimeToLiveSpecification).toEqual(
        table.ttlAttribute ? { AttributeName: table.ttlAttribute, Enabled: true } : undefined,
      );
      const expectedIndexes = table.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' }] : []),
        ],
        Projection: { ProjectionType: index.projection ?? 'ALL' },
      }));
      expect(props.GlobalSecondaryIndexes).toEqual(expectedIndexes.length ? expectedIndexes : undefined);
      for (const attribute of asArray(props.AttributeDefinitions)) {
        expect(attribute).toMatchObject({ AttributeType: 'S' });
      }
    },
  );

  test.each(QUEUES.map((q) => [q.id, q] as const))(
    'queue %s: DLQ, redrive, retention, visibility',
    (id, queue) => {
      const { stack, template } = get(stage);
      const pair = stack.queues.queues.get(id);
      const keyArn = { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] };
      const consumerTimeout = queue.consumer
        ? FUNCTIONS.find((f) => f.id === queue.consumer?.functionId)?.timeoutSeconds
        : queue.consumerTimeoutSeconds;
      expect(consumerTimeout).toBeDefined();

      const main = resource(template, logicalId(stack, pair.queue));
      expect(main.Properties).toMatchObject({
        KmsMasterKeyId: keyArn,
        MessageRetentionPeriod: queue.retentionDays * DAY,
        VisibilityTimeout: 6 * (consumerTimeout ?? 0),
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, pair.dlq), 'Arn'] },
          maxReceiveCount: queue.maxReceiveCount,
        },
      });
      const dlq = resource(template, logicalId(stack, pair.dlq));
      expect(dlq.Properties).toMatchObject({
        KmsMasterKeyId: keyArn,
        MessageRetentionPeriod: queue.dlqRetentionDays * DAY,
      });
      expect(dlq.Properties?.RedrivePolicy).toBeUndefined();
    },
  );

  test('every queue is KMS encrypted and refuses plain HTTP', () => {
    const { template } = get(stage);
    template.resourceCountIs('AWS::SQS::Queue', QUEUES.length * 2);
    template.allResourcesProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    template.resourceCountIs('AWS::SQS::QueuePolicy', QUEUES.length * 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([sslDeny]) },
    });
  });

  test('backup bucket: versioned, KMS with the CMK, private, TLS only, access-logged', () => {
    const { stack, template } = get(stage);
    const bucketId = logicalId(stack, stack.storage.backupBucket);
    const logBucketId = logicalId(stack, stack.storage.accessLogBucket);
    const bucket = resource(template, bucketId);
    expect(bucket.DeletionPolicy).toBe(settings.protectData ? 'Retain' : 'Delete');
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: logBucketId } },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([sslDeny]) },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucketId },
      PolicyDocument: { Statement: Match.arrayWith([sslDeny]) },
    });
    expect(resource(template, logBucketId).Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  test('every secret (JWT, email hash key, Stripe endpoint, Stripe API key, Google Ads developer token, canary API key) is generated and encrypted with the CMK', () => {
    const { stack, template } = get(stage);
    template.resourceCountIs('AWS::SecretsManager::Secret', 6);
    expect(
      resources(template, 'AWS::SecretsManager::Secret')[
        logicalId(stack, stack.monitoring.canary.apiKeySecret)
      ]?.Properties,
    ).toMatchObject({ KmsKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] } });
    for (const secret of [
      stack.storage.jwtSecret,
      stack.storage.emailHashKey,
      stack.storage.stripeWebhookSecret,
      stack.storage.stripeApiKey,
      stack.storage.googleAdsDeveloperToken,
    ]) {
      expect(
        resources(template, 'AWS::SecretsManager::Secret')[logicalId(stack, secret)]?.Properties,
      ).toMatchObject({
        KmsKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] },
        GenerateSecretString: expect.objectContaining({ PasswordLength: 64 }),
      });
    }
  });

  test('outputs name every table and queue', () => {
    const { template } = get(stage);
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Description?: string }>);
    const described = outputs.map((o) => o.Description);
    for (const table of TABLES) expect(described).toContain(table.envVar);
    for (const queue of QUEUES) {
      expect(described).toContain(queue.envVar);
      expect(described).toContain(queue.dlqEnvVar);
    }
    template.hasOutput('ApiUrl', {});
  });
});

test('every stage has settings the stack can use', () => {
  for (const stage of STAGES) expect(STAGE_SETTINGS[stage].stage).toBe(stage);
});

test('an index deploys with the projection its definition declares, every attribute by default', () => {
  expect(projectionType({ name: 'gsi1', partitionKey: 'gsi1pk' })).toBe(ProjectionType.ALL);
  expect(projectionType({ name: 'gsi1', partitionKey: 'gsi1pk', projection: 'ALL' })).toBe(
    ProjectionType.ALL,
  );
  expect(projectionType({ name: 'gsi1', partitionKey: 'gsi1pk', projection: 'KEYS_ONLY' })).toBe(
    ProjectionType.KEYS_ONLY,
  );
});
