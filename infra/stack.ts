import { Aws, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { FUNCTIONS, type FunctionDefinition, type FunctionId, QUEUES, TABLES } from '../contract/resources';
import { ROUTES, type RouteDefinition } from '../contract/routes';
import { STAGE_SETTINGS, type Stage } from '../contract/stages';
import { Api } from './constructs/api';
import { BackupSchedule } from './constructs/backup-schedule';
import { CustomDomain, type DomainSettings } from './constructs/custom-domain';
import { Data } from './constructs/data';
import { Deployments } from './constructs/deployments';
import { Firewall } from './constructs/firewall';
import { Functions } from './constructs/functions';
import { Identity } from './constructs/identity';
import { Keys } from './constructs/keys';
import { Monitoring } from './constructs/monitoring';
import { Queues } from './constructs/queues';
import { Storage } from './constructs/storage';
import { pascal } from './constructs/support';

export interface AdsEngineerStackProps extends StackProps {
  readonly stage: Stage;
  /** PLATFORM_ORG_ID of the functions (default `platform`). */
  readonly platformOrgId?: string;
  /** PagerDuty integration URL; absent, the stack reads SSM `/adsengineer/<stage>/pagerduty-url`. */
  readonly pagerDutyUrl?: string;
  readonly warningWebhookUrl?: string;
  /** Slack workspace and channel (AWS Chatbot) for critical and warning alarms; both or neither. */
  readonly slackWorkspaceId?: string;
  readonly slackChannelId?: string;
  /** A browsable URL of docs/runbook.md, linked from every alarm description. */
  readonly runbookBaseUrl?: string;
  /** Create a Cognito user pool (with the machine-to-machine resource server) and accept its tokens. */
  readonly cognito?: boolean;
  /** Or accept the access tokens of an existing pool. */
  readonly cognitoUserPoolId?: string;
  /** Restrict accepted Cognito tokens to these app clients. */
  readonly cognitoClientIds?: readonly string[];
  readonly cognitoDomainPrefix?: string;
  /** HighLevel's Ed25519 webhook public key (PEM or base64 DER SPKI); unset: the one HighLevel publishes. */
  readonly ghlWebhookPublicKey?: string;
  /** Deploy context `googleAdsUploadApi`: `google_ads_api` for a developer token Google still allowlists. */
  readonly googleAdsUploadApi?: 'data_manager' | 'google_ads_api';
  /** The API on its own domain (deploy context domainName, hostedZoneId, hostedZoneName). */
  readonly domain?: DomainSettings;
  /** X-Ray tracing on the API stage. */
  readonly apiTracing?: boolean;
  /** The shared function list and route table; tests pass variants, the app never does. */
  readonly definitions?: {
    readonly functions?: readonly FunctionDefinition[];
    readonly routes?: readonly RouteDefinition[];
  };
}

/** Slack through AWS Chatbot needs both ids; one without the other is a mistake worth stopping for. */
function slackOf(props: AdsEngineerStackProps): { slack?: { workspaceId: string; channelId: string } } {
  const { slackWorkspaceId: workspaceId, slackChannelId: channelId } = props;
  if (!workspaceId && !channelId) return {};
  if (!workspaceId || !channelId) {
    throw new Error('Slack alarms need both slackWorkspaceId and slackChannelId (AWS Chatbot), or neither');
  }
  return { slack: { workspaceId, channelId } };
}

/** The whole service in one stack, generated from the contract data (contract/). */
export class AdsEngineerStack extends Stack {
  readonly keys: Keys;
  readonly data: Data;
  readonly queues: Queues;
  readonly storage: Storage;
  readonly functions: Functions;
  readonly api: Api;
  readonly firewall: Firewall;
  readonly monitoring: Monitoring;
  readonly deployments: Deployments;
  readonly customDomain?: CustomDomain;
  readonly backupSchedule: BackupSchedule;
  readonly identity?: Identity;

  constructor(scope: Construct, id: string, props: AdsEngineerStackProps) {
    super(scope, id, {
      description: `AdsEngineer ${props.stage}: conversion-tracking backend`,
      ...props,
    });
    const settings = STAGE_SETTINGS[props.stage];
    const routes = props.definitions?.routes ?? ROUTES;

    this.keys = new Keys(this, 'Keys', { settings });
    const key = this.keys.key;
    this.data = new Data(this, 'Data', { settings, key });
    this.queues = new Queues(this, 'Queues', { settings, key });
    this.storage = new Storage(this, 'Storage', { settings, key });
    if (props.cognito) {
      this.identity = new Identity(this, 'Identity', {
        settings,
        ...(props.cognitoDomainPrefix ? { domainPrefix: props.cognitoDomainPrefix } : {}),
      });
    }
    const userPoolId = this.identity?.userPool.userPoolId ?? props.cognitoUserPoolId;
    this.functions = new Functions(this, 'Functions', {
      settings,
      key,
      data: this.data,
      queues: this.queues,
      storage: this.storage,
      platformOrgId: props.platformOrgId ?? 'platform',
      ...(props.ghlWebhookPublicKey ? { ghlWebhookPublicKey: props.ghlWebhookPublicKey } : {}),
      ...(props.googleAdsUploadApi ? { googleAdsUploadApi: props.googleAdsUploadApi } : {}),
      ...(userPoolId
        ? {
            cognito: { userPoolId, ...(props.cognitoClientIds ? { clientIds: props.cognitoClientIds } : {}) },
          }
        : {}),
      definitions: props.definitions?.functions ?? FUNCTIONS,
      routes,
    });
    this.deployments = new Deployments(this, 'Deployments', { settings, functions: this.functions });
    const targetOf = (functionId: FunctionId) => this.deployments.target(functionId);
    this.functions.connectConsumers(this.queues, targetOf);
    this.api = new Api(this, 'Api', {
      settings,
      functions: this.functions,
      targetOf,
      routes,
      ...(props.apiTracing === undefined ? {} : { tracing: props.apiTracing }),
    });
    this.firewall = new Firewall(this, 'Firewall', { settings, stage: this.api.stage, routes });
    if (props.domain) {
      this.customDomain = new CustomDomain(this, 'CustomDomain', {
        ...props.domain,
        restApi: this.api.restApi,
      });
      new CfnOutput(this, 'DomainUrl', {
        value: this.customDomain.url,
        description: 'The API on its custom domain (the execute-api endpoint is disabled)',
      });
    }
    // Every URL the API hands out starts here, never with a request's Host header: the custom
    // domain (the stage at its root), else the stage's execute-api URL, built from the API's id
    // (its `url` would make the functions depend on the deployment that depends on them).
    this.functions.setPublicBaseUrl(
      this.customDomain?.url ??
        Fn.join('', [
          'https://',
          this.api.restApi.restApiId,
          '.execute-api.',
          Aws.REGION,
          '.',
          Aws.URL_SUFFIX,
          `/${settings.stage}`,
        ]),
      routes,
    );
    this.monitoring = new Monitoring(this, 'Monitoring', {
      settings,
      key,
      functions: this.functions,
      queues: this.queues,
      apiStage: this.api.stage,
      data: this.data,
      apiUrl: this.api.restApi.url,
      accessLogBucket: this.storage.accessLogBucket,
      ...(props.pagerDutyUrl ? { pagerDutyUrl: props.pagerDutyUrl } : {}),
      ...(props.warningWebhookUrl ? { warningWebhookUrl: props.warningWebhookUrl } : {}),
      ...slackOf(props),
      ...(props.runbookBaseUrl ? { runbookBaseUrl: props.runbookBaseUrl } : {}),
    });
    this.deployments.addRollbackAlarms(routes, this.monitoring.alarms);
    this.backupSchedule = new BackupSchedule(this, 'BackupSchedule', {
      settings,
      queues: this.queues,
      monitoring: this.monitoring,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url, description: 'Base URL of the API stage' });
    for (const table of TABLES) {
      new CfnOutput(this, `${pascal(table.id)}TableName`, {
        value: this.data.tables.get(table.id).tableName,
        description: table.envVar,
      });
    }
    for (const queue of QUEUES) {
      const pair = this.queues.queues.get(queue.id);
      new CfnOutput(this, `${pascal(queue.id)}QueueUrl`, {
        value: pair.queue.queueUrl,
        description: queue.envVar,
      });
      new CfnOutput(this, `${pascal(queue.id)}DlqUrl`, {
        value: pair.dlq.queueUrl,
        description: queue.dlqEnvVar,
      });
    }
    new CfnOutput(this, 'BackupBucketName', { value: this.storage.backupBucket.bucketName });
    new CfnOutput(this, 'StripeWebhookSecretArn', {
      value: this.storage.stripeWebhookSecret.secretArn,
      description:
        'Put the Stripe endpoint signing secret (whsec_...) here; until then Stripe webhooks are refused',
    });
    new CfnOutput(this, 'JwtSecretArn', {
      value: this.storage.jwtSecret.secretArn,
      description: 'JWT_SECRET_ARN: operator commands issue tokens and rotate the secret with it',
    });
    if (this.identity) {
      new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
      new CfnOutput(this, 'TokenEndpoint', {
        value: `${this.identity.domain.baseUrl()}/oauth2/token`,
        description: 'Client-credentials token endpoint for machine-to-machine clients',
      });
    }
    new CfnOutput(this, 'CriticalTopicArn', { value: this.monitoring.criticalTopic.topicArn });
    new CfnOutput(this, 'WarningTopicArn', { value: this.monitoring.warningTopic.topicArn });
    new CfnOutput(this, 'CanaryApiKeySecretArn', {
      value: this.monitoring.canary.apiKeySecret.secretArn,
      description:
        'Put the synthetic tenant API key (ae_...) here; until then the uptime canary fails and pages',
    });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboard.dashboardName });
  }
}
