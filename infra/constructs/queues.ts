import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  QUEUES,
  type QueueDefinition,
  type QueueId,
  visibilityTimeoutSeconds,
} from '../../contract/resources';
import type { StageSettings } from '../../contract/stages';
import { pascal, Registry, removalPolicyFor } from './support';

export interface QueuesProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
}

export interface QueuePair {
  readonly definition: QueueDefinition;
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
}

/** Per entry of the shared queue list: the queue and its dead-letter queue, both on the CMK. */
export class Queues extends Construct {
  readonly queues = new Registry<QueueId, QueuePair>('queue');

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    for (const definition of QUEUES) this.queues.set(definition.id, this.createPair(definition, props));
  }

  private createPair(definition: QueueDefinition, props: QueuesProps): QueuePair {
    const name = pascal(definition.id);
    const common = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      // Reuse a data key for 5 minutes: fewer KMS calls per message, the AWS default.
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      removalPolicy: removalPolicyFor(props.settings),
    };
    const dlq = new sqs.Queue(this, `${name}Dlq`, {
      ...common,
      retentionPeriod: Duration.days(definition.dlqRetentionDays),
    });
    const queue = new sqs.Queue(this, name, {
      ...common,
      retentionPeriod: Duration.days(definition.retentionDays),
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(definition)),
      deadLetterQueue: { queue: dlq, maxReceiveCount: definition.maxReceiveCount },
    });
    return { definition, queue, dlq };
  }
}
