import path from 'node:path';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';
import { CANARY } from '../../contract/monitoring';
import type { StageSettings } from '../../contract/stages';
import { removalPolicyFor, stageSecret } from './support';

export const CANARY_SOURCE_DIR = path.resolve(__dirname, '..', 'canary');
export const CANARY_HANDLER = 'api-canary.handler';

/**
 * The Synthetics runtime the canary runs on: Node.js 22 with Puppeteer, the newest AWS lists
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_nodejs_puppeteer.html).
 * aws-cdk-lib's constants stop at an older runtime, so it is named here. AWS refuses to create a
 * canary on a deprecated runtime: test/infra/canary-runtime.test.ts fails once this one is.
 */
export const CANARY_RUNTIME = new synthetics.Runtime(
  'syn-nodejs-puppeteer-15.0',
  synthetics.RuntimeFamily.NODEJS,
);

export interface UptimeCanaryProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
  /** The API's base URL (the stage's invoke URL). */
  readonly apiUrl: string;
  readonly accessLogBucket: s3.IBucket;
}

/**
 * A CloudWatch Synthetics canary that calls the API from outside every minute: GET /health and
 * one authenticated read as a synthetic tenant, whose API key an operator stores in the canary
 * secret. The script is plain CommonJS in infra/canary, packaged as it is (no bundling, no Docker).
 */
export class UptimeCanary extends Construct {
  readonly canary: synthetics.Canary;
  readonly apiKeySecret: secretsmanager.Secret;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: UptimeCanaryProps) {
    super(scope, id);
    this.key = props.key;
    const { settings } = props;
    const removalPolicy = removalPolicyFor(settings);

    this.apiKeySecret = stageSecret(this, 'ApiKey', {
      settings,
      key: props.key,
      holds: 'API key (ae_...) of the synthetic tenant the uptime canary reads as; set by an operator',
      passwordLength: 32,
      notRotated:
        'The synthetic tenant API key is issued by the API (shown once) and copied in by an operator; rotating it means issuing a new key through the API, which a Secrets Manager rotation function cannot do.',
    });

    const artifacts = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: 'canary-artifacts/',
      lifecycleRules: [{ expiration: Duration.days(settings.logRetentionDays) }],
      removalPolicy,
    });

    const canaryName = CANARY.name(settings.stage);
    const role = this.role(canaryName, artifacts);
    this.canary = new synthetics.Canary(this, 'Canary', {
      canaryName,
      runtime: CANARY_RUNTIME,
      test: synthetics.Test.custom({
        code: synthetics.Code.fromAsset(CANARY_SOURCE_DIR),
        handler: CANARY_HANDLER,
      }),
      schedule: synthetics.Schedule.rate(Duration.minutes(settings.canaryEveryMinutes)),
      timeout: Duration.seconds(50),
      environmentVariables: {
        API_BASE_URL: props.apiUrl,
        CANARY_API_KEY_SECRET_ARN: this.apiKeySecret.secretArn,
      },
      artifactsBucketLocation: { bucket: artifacts, prefix: 'runs' },
      role,
      startAfterCreation: true,
      provisionedResourceCleanup: true,
      successRetentionPeriod: Duration.days(2),
      failureRetentionPeriod: Duration.days(14),
    });
  }

  /** The canary's own role: its artifacts, its metrics namespace, its log groups, its secret. */
  private role(canaryName: string, artifacts: s3.Bucket): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'AdsEngineer uptime canary: artifacts, CloudWatchSynthetics metrics, its logs, its API key',
    });
    const logGroups = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/lambda/cwsyn-${canaryName}-*`;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'Artifacts',
        actions: ['s3:PutObject', 's3:GetBucketLocation'],
        resources: [artifacts.bucketArn, artifacts.arnForObjects('runs/*')],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ListBuckets', actions: ['s3:ListAllMyBuckets'], resources: ['*'] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'Metrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'CloudWatchSynthetics' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'Logs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroups],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ApiKey',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.apiKeySecret.secretArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ApiKeyDecrypt',
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    );
    // cdk-nag names each wildcard resource as it renders it: pseudo parameters as <AWS::...>.
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const artifactsId: unknown = stack.resolve((artifacts.node.defaultChild as s3.CfnBucket).logicalId);
    const reason =
      'The Synthetics runtime writes run artifacts under the runs/ prefix of its own bucket, lists buckets and puts metrics (PutMetricData has no resource; it is limited to the CloudWatchSynthetics namespace), and logs to the /aws/lambda/cwsyn-<canary name>-* log groups it creates: the canary role permissions AWS documents.';
    for (const resource of [
      `<${String(artifactsId)}.Arn>/runs/*`,
      '*',
      `arn:<AWS::Partition>:logs:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:log-group:/aws/lambda/cwsyn-${canaryName}-*`,
    ]) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    }
    return role;
  }
}
