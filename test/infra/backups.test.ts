import { Match } from 'aws-cdk-lib/assertions';
import { BACKUP_SCHEDULE, backupRetention } from '../../contract/backups';
import { METRICS } from '../../contract/metrics';
import { functionDefinition, queueDefinition } from '../../contract/resources';
import { STAGE_SETTINGS, type Stage } from '../../contract/stages';
import { MIN_RETENTION_DAYS } from '../../functions/shared/features/retention/rules';
import { logicalId, resource, resources, stagesBuiltOnce } from './build';

const stagesUnderTest: Stage[] = ['dev', 'prod'];
const get = stagesBuiltOnce(stagesUnderTest);

describe.each(stagesUnderTest)('encrypted backups in %s', (stage) => {
  const refs = () => {
    const { stack } = get(stage);
    const pair = stack.queues.queues.get('backups');
    return {
      queue: logicalId(stack, pair.queue),
      dlq: logicalId(stack, pair.dlq),
      worker: logicalId(stack, stack.functions.functions.get('backupWorker').fn),
      key: logicalId(stack, stack.keys.key),
      rule: logicalId(stack, stack.backupSchedule.rule),
      critical: { Ref: logicalId(stack, stack.monitoring.criticalTopic) },
    };
  };

  test('a daily EventBridge rule puts a schedule message on the backups queue', () => {
    const { template } = get(stage);
    const { queue, rule } = refs();
    const props = resource(template, rule).Properties ?? {};
    expect(props.ScheduleExpression).toBe(`cron(${BACKUP_SCHEDULE.minute} ${BACKUP_SCHEDULE.hour} * * ? *)`);
    expect(props.State).toBe('ENABLED');
    const targets = props.Targets as {
      Arn: unknown;
      InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
    }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
    const transformer = targets[0]?.InputTransformer;
    expect(Object.values(transformer?.InputPathsMap ?? {}).sort()).toEqual(['$.id', '$.time']);
    // EventBridge inserts the event's id and time as JSON strings; the rest is the worker's message.
    const filled = (transformer?.InputTemplate ?? '').replace(/<([^>]+)>/g, (_m, name: string) =>
      JSON.stringify(transformer?.InputPathsMap[name] === '$.id' ? 'event-1' : '2026-01-01T03:17:00Z'),
    );
    expect(JSON.parse(filled)).toEqual({
      version: 1,
      trigger: 'schedule',
      event_id: 'event-1',
      scheduled_at: '2026-01-01T03:17:00Z',
    });
  });

  test('only EventBridge of this account may send to the encrypted queue, and use the key for it', () => {
    const { template } = get(stage);
    const { queue, key } = refs();
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
          }),
        ]),
      },
    });
    const keyPolicy = resource(template, key).Properties?.KeyPolicy as {
      Statement: Record<string, unknown>[];
    };
    const forEvents = keyPolicy.Statement.filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }),
    );
    expect(forEvents).toHaveLength(1);
    expect(forEvents[0]?.Effect).toBe('Allow');
  });

  test('the queue has a dead-letter queue after 3 receives and a visibility timeout of 6x the worker', () => {
    const { template } = get(stage);
    const { queue, dlq } = refs();
    const definition = queueDefinition('backups');
    expect(resource(template, queue).Properties).toMatchObject({
      VisibilityTimeout: 6 * functionDefinition('backupWorker').timeoutSeconds,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
        maxReceiveCount: definition.maxReceiveCount,
      },
      KmsMasterKeyId: { 'Fn::GetAtt': [refs().key, 'Arn'] },
    });
  });

  test('the worker consumes it one job at a time, reporting failures per message', () => {
    const { template } = get(stage);
    const { queue, worker } = refs();
    const { stack } = get(stage);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      // The live alias, which CodeDeploy moves between versions.
      FunctionName: stack.resolve(stack.deployments.live.get('backupWorker').alias.functionName),
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(resource(template, worker).Properties).toMatchObject({ Timeout: 900, MemorySize: 1024 });
  });

  test('a message in the backups DLQ, a schedule that cannot deliver, and a keyless attempt page on-call', () => {
    const { template } = get(stage);
    const { dlq, rule, critical } = refs();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      AlarmActions: [critical],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'FailedInvocations',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: rule } }],
      Threshold: 1,
      AlarmActions: [critical],
      OKActions: [critical],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AdsEngineer',
      MetricName: METRICS.backupAttemptWithoutKey,
      Threshold: 1,
      AlarmActions: [critical],
    });
  });

  test('incomplete multipart uploads are removed from the backup bucket after a day', () => {
    const { stack, template } = get(stage);
    const bucket = resource(template, logicalId(stack, stack.storage.backupBucket));
    expect(bucket.Properties?.LifecycleConfiguration).toEqual({
      Rules: [
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ],
    });
  });

  test('backups age out the day after their Object Lock ends, well inside the shortest data retention', () => {
    const { stack, template } = get(stage);
    const bucket = resource(template, logicalId(stack, stack.storage.backupBucket));
    const lock = backupRetention(STAGE_SETTINGS[stage]);
    const props = bucket.Properties ?? {};
    const rule = (props.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules[0];
    expect(rule).toMatchObject({
      ExpirationInDays: lock.days + 1,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      Status: 'Enabled',
    });
    expect(props.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } },
    });
    // An item that expired in a table is held by a backup at most this long after.
    expect(lock.days + 1).toBeLessThan(MIN_RETENTION_DAYS);
  });

  test('point-in-time recovery stays on for every table', () => {
    const { template } = get(stage);
    for (const table of Object.values(resources(template, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
    }
  });
});
