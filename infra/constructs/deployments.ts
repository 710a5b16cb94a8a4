import { Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { FunctionId } from '../../contract/resources';
import type { RouteDefinition } from '../../contract/routes';
import type { StageSettings } from '../../contract/stages';
import type { Functions } from './functions';
import { pascal, Registry } from './support';

/** The alias the API and the queues invoke; CodeDeploy moves it from version to version. */
export const LIVE_ALIAS = 'live';

/** How new versions take traffic: canary in prod, all at once elsewhere. */
export function deploymentConfigFor(settings: StageSettings): codedeploy.ILambdaDeploymentConfig {
  return settings.stage === 'prod'
    ? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
    : codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
}

export interface DeploymentsProps {
  readonly settings: StageSettings;
  readonly functions: Functions;
}

export interface LiveFunction {
  readonly alias: lambda.Alias;
  readonly group: codedeploy.LambdaDeploymentGroup;
}

/**
 * Safe deploys: each function is published as a version behind the `live` alias, and a CodeDeploy
 * deployment group per function shifts the alias to a new version (10 % for 5 minutes in prod,
 * at once elsewhere), rolling back on a failed or stopped deployment and whenever one of its
 * alarms fires during the shift. Old versions are retained so a rollback has something to go to.
 */
export class Deployments extends Construct {
  readonly live = new Registry<FunctionId, LiveFunction>('live alias');
  readonly application: codedeploy.LambdaApplication;

  constructor(scope: Construct, id: string, props: DeploymentsProps) {
    super(scope, id);
    this.application = new codedeploy.LambdaApplication(this, 'Application');
    for (const [functionId, deployed] of props.functions.functions.entries()) {
      const name = pascal(functionId);
      const alias = new lambda.Alias(this, `${name}Live`, {
        aliasName: LIVE_ALIAS,
        version: deployed.fn.currentVersion,
        description: `The ${functionId} version serving traffic; moved by CodeDeploy`,
      });
      const group = new codedeploy.LambdaDeploymentGroup(this, `${name}Deployment`, {
        application: this.application,
        alias,
        deploymentConfig: deploymentConfigFor(props.settings),
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      this.live.set(functionId, { alias, group });
    }
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        'The CodeDeploy service role of each deployment group uses the AWS managed AWSCodeDeployRoleForLambdaLimited policy, scoped by AWS to shifting aliases and reading alarms; it is the policy CodeDeploy documents for Lambda.',
    });
  }

  /** What the API and the queue consumers invoke for a function: its live alias. */
  target(functionId: FunctionId): lambda.IFunction {
    return this.live.get(functionId).alias;
  }

  /**
   * Rolls a deployment back when any of these alarms fires while traffic shifts: the function's
   * own error alarm, and for functions behind the API the API-wide alarms (5xx rate, objectives).
   */
  addRollbackAlarms(
    routes: readonly RouteDefinition[],
    alarms: readonly cloudwatch.IAlarm[],
    selection: RollbackAlarmSelection = DEFAULT_ROLLBACK_ALARMS,
  ): void {
    for (const [functionId, { group }] of this.live.entries()) {
      const servesApi = routes.some((r) => r.functionId === functionId);
      for (const alarm of alarms) {
        const alarmId = (alarm as unknown as Construct).node.id;
        if (selection.ofFunction(functionId, alarmId) || (servesApi && selection.ofApi(alarmId))) {
          group.addAlarm(alarm);
        }
      }
    }
  }
}

export interface RollbackAlarmSelection {
  /** The alarm (by construct id) watches this function. */
  ofFunction(functionId: FunctionId, alarmId: string): boolean;
  /** The alarm watches the API as a whole: every function behind it rolls back on it. */
  ofApi(alarmId: string): boolean;
}

/**
 * Function error alarms `Errors<Function>`; API-wide alarms: `Api...` (5xx rate, latency) and the
 * objectives' fast burn (`Slo...Fast`: 1 h and 5 min windows). The medium and slow burns (6 h, 3
 * days) are not rollback alarms: they describe hours or days before the deployment, and one
 * still firing would roll back every deploy, a fix included. CodeDeploy takes at most 10 alarms
 * per deployment group.
 */
export const DEFAULT_ROLLBACK_ALARMS: RollbackAlarmSelection = {
  ofFunction: (functionId, alarmId) => alarmId === `Errors${pascal(functionId)}`,
  ofApi: (alarmId) => /^Api[A-Z0-9]/.test(alarmId) || /^Slo[A-Z]\w*Fast$/.test(alarmId),
};
