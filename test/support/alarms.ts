import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';

/**
 * An alarm on a queue's depth (one visible message for a minute), as the tests put them in the
 * emulator's CloudWatch: `topic` receives its alarm and OK actions.
 */
export function queueDepthAlarm(alarm: {
  name: string;
  description?: string;
  queueName?: string;
  topic?: string;
  treatMissingData?: 'notBreaching';
}): PutMetricAlarmCommand {
  return new PutMetricAlarmCommand({
    AlarmName: alarm.name,
    ...(alarm.description ? { AlarmDescription: alarm.description } : {}),
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    ...(alarm.queueName ? { Dimensions: [{ Name: 'QueueName', Value: alarm.queueName }] } : {}),
    Statistic: 'Maximum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    ...(alarm.treatMissingData ? { TreatMissingData: alarm.treatMissingData } : {}),
    ...(alarm.topic ? { AlarmActions: [alarm.topic], OKActions: [alarm.topic] } : {}),
  });
}
