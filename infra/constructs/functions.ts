import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUNDLING, esbuildOptions, SDK_SOURCE } from '../../contract/bundling';
import { GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY } from '../../contract/ghl';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../../contract/metrics';
import { type LimitScope, RATE_LIMIT_ENV } from '../../contract/rate-limits';
import {
  COMMON_ENV_VARS,
  type FunctionDefinition,
  type FunctionId,
  QUEUES,
  queueDefinition,
  tableDefinition,
} from '../../contract/resources';
import type { RouteDefinition } from '../../contract/routes';
import type { StageSettings } from '../../contract/stages';
import {
  BACKUP_EXPORT_ACTIONS,
  BACKUP_KEY_PREFIX,
  EXPORT_TABLE_ACTIONS,
  FUNCTION_SECRETS,
  type FunctionAccess,
  functionAccess,
  KMS_SERVICE_ACTIONS,
  KMS_USE_ACTIONS,
  LOG_ACTIONS,
  SECRET_ACTIONS,
} from './access';
import type { Data } from './data';
import type { Queues } from './queues';
import type { Storage } from './storage';
import { logRetention, pascal, Registry, removalPolicyFor } from './support';

/** Bundling hooks that copy files a function reads at run time next to its bundle. */
function copiedNextToBundle(files: readonly string[]): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) =>
      files.map((file) => `cp "${path.join(inputDir, file)}" "${path.join(outputDir, path.basename(file))}"`),
  };
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
    return pkg.version;
  }
  throw new Error('package.json has no version');
}

export interface FunctionsProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
  readonly data: Data;
  readonly queues: Queues;
  readonly storage: Storage;
  readonly platformOrgId: string;
  /** A Cognito user pool whose access tokens the token-verifying functions accept too. */
  readonly cognito?: { readonly userPoolId: string; readonly clientIds?: readonly string[] };
  /**
   * HighLevel's Ed25519 webhook public key (PEM or base64 DER SPKI) that X-GHL-Signature is verified
   * with; unset: the key HighLevel publishes.
   */
  readonly ghlWebhookPublicKey?: string;
  /** `GOOGLE_ADS_UPLOAD_API` for the uploader (deploy context `googleAdsUploadApi`); unset: Data Manager. */
  readonly googleAdsUploadApi?: 'data_manager' | 'google_ads_api';
  /** The shared function list (tests may pass variants). */
  readonly definitions: readonly FunctionDefinition[];
  /** The shared route table: checked against each definition (JWT secret, rate limits, backups). */
  readonly routes: readonly RouteDefinition[];
}

export interface DeployedFunction {
  readonly definition: FunctionDefinition;
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * One Lambda function per entry of the shared function list, each with its own role whose
 * statements are derived from the definition: its tables, its queues, the CMK, its own log
 * group, the JWT secret when the definition reads it, the backup key id when it handles backups,
 * and, for the exporting function, Scan on every table and object writes below `backups/`.
 * No managed policies, no wildcard actions.
 */
export class Functions extends Construct {
  readonly functions = new Registry<FunctionId, DeployedFunction>('function');

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const version = packageVersion();
    for (const definition of props.definitions) {
      this.functions.set(definition.id, this.createFunction(definition, props, version));
    }
  }

  private createFunction(
    definition: FunctionDefinition,
    props: FunctionsProps,
    version: string,
  ): DeployedFunction {
    const name = pascal(definition.id);
    const access = functionAccess(definition, props.routes);
    const logGroup = new logs.LogGroup(this, `${name}Logs`, {
      retention: logRetention(props.settings),
      removalPolicy: removalPolicyFor(props.settings),
    });
    const role = new iam.Role(this, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `AdsEngineer ${props.settings.stage} ${definition.id}: least privilege from its definition`,
    });
    for (const statement of this.statements(access, logGroup, props)) role.addToPrincipalPolicy(statement);
    if (access.backups === 'export') this.acknowledgeBackupPrefix(role, props.storage.backupBucket);

    const fn = new NodejsFunction(this, name, {
      description: definition.description,
      entry: path.join(REPO_ROOT, definition.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: definition.memoryMb,
      timeout: Duration.seconds(definition.timeoutSeconds),
      ...(definition.reservedConcurrency
        ? { reservedConcurrentExecutions: definition.reservedConcurrency }
        : {}),
      role,
      logGroup,
      environment: this.environment(access, props, version),
      bundling: {
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        sourcesContent: BUNDLING.sourcesContent,
        target: BUNDLING.target,
        // The AWS SDK from the runtime or bundled and tree-shaken, whichever initialises faster.
        ...esbuildOptions(SDK_SOURCE[definition.id]),
        format: OutputFormat.CJS,
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
        ...(definition.files?.length ? { commandHooks: copiedNextToBundle(definition.files) } : {}),
      },
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs24.x (the current Node.js LTS) is pinned on purpose: it is the Node of the dev machines, CI and the local gateway (.nvmrc, engines), and dependencies are chosen for it; moving to a newer runtime is a deliberate upgrade, not a drift.',
    });
    return { definition, fn, role, logGroup };
  }

  private statements(
    access: FunctionAccess,
    logGroup: logs.LogGroup,
    props: FunctionsProps,
  ): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: [...LOG_ACTIONS],
        resources: [logGroup.logGroupArn],
      }),
      ...this.keyStatements(access, props.key),
    ];
    for (const grant of access.tables) {
      statements.push(
        new iam.PolicyStatement({
          sid: `Table${pascal(grant.table)}`,
          actions: [...grant.actions],
          resources: props.data.arnsOf(grant.table),
        }),
      );
    }
    for (const grant of access.queues) {
      const pair = props.queues.queues.get(grant.queue);
      if (grant.actions.length) {
        statements.push(
          new iam.PolicyStatement({
            sid: `Queue${pascal(grant.queue)}`,
            actions: [...grant.actions],
            resources: [pair.queue.queueArn],
          }),
        );
      }
      if (grant.dlqActions.length) {
        statements.push(
          new iam.PolicyStatement({
            sid: `Queue${pascal(grant.queue)}Dlq`,
            actions: [...grant.dlqActions],
            resources: [pair.dlq.queueArn],
          }),
        );
      }
    }
    for (const secret of FUNCTION_SECRETS) {
      if (!access[secret]) continue;
      statements.push(
        new iam.PolicyStatement({
          sid: pascal(secret),
          actions: [...SECRET_ACTIONS],
          resources: [props.storage[secret].secretArn],
        }),
      );
    }
    if (access.exportTables.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ExportTables',
          actions: [...EXPORT_TABLE_ACTIONS],
          resources: access.exportTables.map((table) => props.data.tables.get(table).tableArn),
        }),
      );
    }
    if (access.backups === 'export') {
      statements.push(
        new iam.PolicyStatement({
          sid: 'BackupObjects',
          actions: [...BACKUP_EXPORT_ACTIONS],
          resources: [props.storage.backupBucket.arnForObjects(`${BACKUP_KEY_PREFIX}*`)],
        }),
      );
    }
    return statements;
  }

  /**
   * The data key: through the services that encrypt its tables, queues, secrets and objects
   * (`kms:ViaService`), and directly only for its own purposes, each under a condition on the
   * encryption context (`kms:EncryptionContext:purpose`, and for credentials their names). A
   * function without a credential purpose cannot open a tenant's credentials, whatever it runs.
   */
  private keyStatements(access: FunctionAccess, key: kms.IKey): iam.PolicyStatement[] {
    const region = Stack.of(this).region;
    const statements: iam.PolicyStatement[] = [];
    if (access.keyServices.length) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DataKeyThroughServices',
          actions: [...KMS_SERVICE_ACTIONS],
          resources: [key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': access.keyServices.map((s) => `${s}.${region}.amazonaws.com`) },
          },
        }),
      );
    }
    access.kms.forEach((use, index) => {
      statements.push(
        new iam.PolicyStatement({
          sid: `DataKey${pascal(use.purpose)}${index}`,
          actions: use.actions.map((action) => KMS_USE_ACTIONS[action]),
          resources: [key.keyArn],
          conditions: {
            StringEquals: {
              'kms:EncryptionContext:purpose': use.purpose,
              ...(use.names ? { 'kms:EncryptionContext:name': [...use.names] } : {}),
            },
            // No call through a service: only the function's own calls, with their context.
            Null: { 'kms:ViaService': 'true' },
          },
        }),
      );
    });
    return statements;
  }

  /** The one wildcard in a function policy: backup object keys below the backups/ prefix. */
  private acknowledgeBackupPrefix(role: iam.Role, bucket: s3.Bucket): void {
    const logicalId: unknown = Stack.of(this).resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${String(logicalId)}.Arn>/${BACKUP_KEY_PREFIX}*]`,
      reason: `Each backup job writes its own object key, unknown when the stack is built; the grant is limited to the ${BACKUP_KEY_PREFIX} prefix of the one backup bucket.`,
    });
  }

  private environment(
    access: FunctionAccess,
    props: FunctionsProps,
    version: string,
  ): Record<string, string> {
    const env: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.settings.logLevel,
      APP_VERSION: version,
      [COMMON_ENV_VARS.stage]: props.settings.stage,
      [COMMON_ENV_VARS.platformOrgId]: props.platformOrgId,
      [COMMON_ENV_VARS.kmsKeyId]: props.key.keyArn,
    };
    if (access.tables.some((grant) => grant.table === 'rateLimits')) {
      for (const [scope, name] of Object.entries(RATE_LIMIT_ENV) as [LimitScope, string][]) {
        env[name] = String(props.settings.rateLimits[scope]);
      }
    }
    for (const table of [...access.tables.map((grant) => grant.table), ...access.exportTables]) {
      env[tableDefinition(table).envVar] = props.data.tables.get(table).tableName;
    }
    for (const grant of access.queues) {
      const definition = queueDefinition(grant.queue);
      const pair = props.queues.queues.get(grant.queue);
      env[definition.envVar] = pair.queue.queueUrl;
      env[definition.dlqEnvVar] = pair.dlq.queueUrl;
    }
    if (access.jwtSecret) env[COMMON_ENV_VARS.jwtSecretArn] = props.storage.jwtSecret.secretArn;
    if (access.emailHashKey) env[COMMON_ENV_VARS.emailHashKeyArn] = props.storage.emailHashKey.secretArn;
    if (access.stripeWebhookSecret) {
      env[COMMON_ENV_VARS.stripeWebhookSecretArn] = props.storage.stripeWebhookSecret.secretArn;
      // Every GoHighLevel delivery must carry HighLevel's signature: the published key unless told otherwise.
      env.GHL_WEBHOOK_PUBLIC_KEY = props.ghlWebhookPublicKey || GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY;
    }
    if (access.stripeApiKey) env[COMMON_ENV_VARS.stripeApiKeyArn] = props.storage.stripeApiKey.secretArn;
    if (access.googleAdsDeveloperToken) {
      env[COMMON_ENV_VARS.googleAdsDeveloperTokenArn] = props.storage.googleAdsDeveloperToken.secretArn;
      if (props.googleAdsUploadApi) env[COMMON_ENV_VARS.googleAdsUploadApi] = props.googleAdsUploadApi;
    }
    if (access.jwtSecret && props.cognito) {
      env.COGNITO_USER_POOL_ID = props.cognito.userPoolId;
      if (props.cognito.clientIds?.length) env.COGNITO_CLIENT_IDS = props.cognito.clientIds.join(',');
    }
    // The stack always sets the backup key: a function that handles backups never runs without one.
    if (access.backups) env[COMMON_ENV_VARS.backupKmsKeyId] = props.key.keyArn;
    if (access.backups === 'export')
      env[COMMON_ENV_VARS.backupBucket] = props.storage.backupBucket.bucketName;
    return env;
  }

  /**
   * Each queue with a consumer feeds it in batches; failed records return alone to the queue.
   * A plain event source mapping rather than SqsEventSource: the latter also grants the role
   * sqs:GetQueueUrl and kms:Decrypt a second time, beside the explicit `consume` statement.
   * `targetOf` names what the queue invokes: the function's live alias (infra/constructs/deployments.ts).
   */
  /**
   * `PUBLIC_BASE_URL` of every function serving a route: the base of every URL the API hands out
   * (webhook URLs, the OAuth redirect URI), so none is ever built from a request's Host header.
   */
  setPublicBaseUrl(url: string, routes: readonly RouteDefinition[]): void {
    const serving = new Set(routes.map((route) => route.functionId));
    for (const [id, deployed] of this.functions.entries()) {
      if (serving.has(id)) deployed.fn.addEnvironment(COMMON_ENV_VARS.publicBaseUrl, url);
    }
  }

  connectConsumers(queues: Queues, targetOf: (id: FunctionId) => lambda.IFunction): void {
    for (const definition of QUEUES) {
      const consumer = definition.consumer;
      if (!consumer) continue;
      const target = this.functions.get(consumer.functionId);
      if (target.definition.queues[definition.id] !== 'consume') {
        throw new Error(
          `Queue ${definition.id} is consumed by ${consumer.functionId}, whose definition does not declare queues.${definition.id} = 'consume'`,
        );
      }
      targetOf(consumer.functionId).addEventSourceMapping(`${pascal(definition.id)}Queue`, {
        eventSourceArn: queues.queues.get(definition.id).queue.queueArn,
        batchSize: consumer.batchSize,
        maxBatchingWindow: Duration.seconds(consumer.maxBatchingWindowSeconds),
        ...(consumer.maxConcurrency ? { maxConcurrency: consumer.maxConcurrency } : {}),
        reportBatchItemFailures: true,
      });
    }
  }
}
