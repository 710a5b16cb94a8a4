import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES, TABLES, visibilityTimeoutSeconds } from '../../contract/resources';
import { bootstrap } from '../../local/bootstrap';
import { resetEmulator } from '../../local/emulator';
import { emulatorUrl } from '../support/emulator';

const config = () => ({
  endpoint: emulatorUrl(),
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

describe('emulator bootstrap from the shared resource list', () => {
  let env: Record<string, string>;
  const dynamo = new DynamoDBClient(config());
  const sqs = new SQSClient(config());

  beforeAll(async () => {
    await resetEmulator(emulatorUrl());
    env = await bootstrap({ endpoint: emulatorUrl(), region: 'us-east-1', prefix: 'boot' });
  });

  afterAll(() => {
    dynamo.destroy();
    sqs.destroy();
  });

  it.each(TABLES.map((t) => [t.id, t] as const))(
    'creates table %s with its keys, indexes and TTL',
    async (_id, table) => {
      const name = env[table.envVar];
      expect(name).toBe(`boot-${table.id}`);
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: table.partitionKey, KeyType: 'HASH' },
        ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' }] : []),
      ]);
      expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(
        table.indexes.map((i) => i.name).sort(),
      );
      const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: name }));
      if (table.ttlAttribute) {
        expect(ttl.TimeToLiveDescription).toMatchObject({
          AttributeName: table.ttlAttribute,
          TimeToLiveStatus: 'ENABLED',
        });
      } else {
        expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).not.toBe('ENABLED');
      }
    },
  );

  it.each(QUEUES.map((q) => [q.id, q] as const))(
    'creates queue %s with its dead-letter queue',
    async (_id, queue) => {
      const main = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: env[queue.envVar], AttributeNames: ['All'] }),
      );
      const dlq = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: env[queue.dlqEnvVar], AttributeNames: ['QueueArn'] }),
      );
      expect(JSON.parse(main.Attributes?.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: dlq.Attributes?.QueueArn,
        maxReceiveCount: queue.maxReceiveCount,
      });
      expect(Number(main.Attributes?.VisibilityTimeout)).toBe(visibilityTimeoutSeconds(queue));
    },
  );

  it('creates the key, bucket and JWT secret, and can run again on the same emulator', async () => {
    expect(env.DATA_KMS_KEY_ID).toMatch(/[0-9a-f-]{36}/);
    expect(env.BACKUP_KMS_KEY_ID).toBe(env.DATA_KMS_KEY_ID);
    expect(env.BACKUP_BUCKET).toBe('boot-backups');
    expect(env.JWT_SECRET_ARN).toContain(':secret:boot/jwt-secret');
    expect(env.JWT_SECRET).toBeUndefined();
    const again = await bootstrap({ endpoint: emulatorUrl(), region: 'us-east-1', prefix: 'boot' });
    expect(again).toEqual(env);
  });
});
