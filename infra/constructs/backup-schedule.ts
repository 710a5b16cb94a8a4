import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { BACKUP_SCHEDULE } from '../../contract/backups';
import type { StageSettings } from '../../contract/stages';
import type { Monitoring } from './monitoring';
import type { Queues } from './queues';

export interface BackupScheduleProps {
  readonly settings: StageSettings;
  readonly queues: Queues;
  readonly monitoring: Monitoring;
}

/**
 * The daily encrypted backup: an EventBridge rule puts a schedule message on the backups queue,
 * the same queue POST /api/v1/admin/backups uses, so both run the same worker. The message
 * carries the event id and time: a redelivered event names the same job and resumes it rather
 * than starting another. A rule that cannot deliver pages on-call.
 */
export class BackupSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: BackupScheduleProps) {
    super(scope, id);
    const queue = props.queues.queues.get('backups').queue;
    this.rule = new events.Rule(this, 'Daily', {
      description: `AdsEngineer ${props.settings.stage}: daily encrypted backup of every table`,
      schedule: events.Schedule.cron({ minute: BACKUP_SCHEDULE.minute, hour: BACKUP_SCHEDULE.hour }),
    });
    this.rule.addTarget(
      new targets.SqsQueue(queue, {
        message: events.RuleTargetInput.fromObject({
          version: 1,
          trigger: 'schedule',
          event_id: events.EventField.eventId,
          scheduled_at: events.EventField.time,
        }),
      }),
    );
    props.monitoring.alarm(
      'BackupScheduleFailed',
      {
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Events',
          metricName: 'FailedInvocations',
          dimensionsMap: { RuleName: this.rule.ruleName },
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.SUM,
        }),
        alarmDescription:
          'The daily backup rule could not put its message on the backups queue: no backup started. Check the queue policy and the KMS key policy for events.amazonaws.com.',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
      'critical',
    );
  }
}
