import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { StageSettings } from '../../contract/stages';
import { removalPolicyFor } from './support';

export interface KeysProps {
  readonly settings: StageSettings;
}

/**
 * The customer-managed key that encrypts the tables, queues, backups, the JWT secret and the alarm
 * topics. Functions reach it through their own IAM policies (the key policy's account statement
 * enables IAM); CloudWatch gets a key-policy statement because it publishes to the encrypted alarm
 * topics as a service, without an IAM role of ours.
 */
export class Keys extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: KeysProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'DataKey', {
      description: `AdsEngineer ${props.settings.stage}: tables, queues, backups, secrets and alarm topics`,
      enableKeyRotation: true,
      removalPolicy: removalPolicyFor(props.settings),
    });
    this.key.addAlias(`alias/adsengineer-${props.settings.stage}`);

    // SNS encrypts a message with the topic's key using the publisher's permissions; CloudWatch
    // alarms publish as the cloudwatch.amazonaws.com service principal, so that principal needs
    // the key, limited to this account's alarms.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}
