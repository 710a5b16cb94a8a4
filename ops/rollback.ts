/**
 * `rollback --stage S`: stops every in-flight CodeDeploy deployment of the stage with automatic
 * rollback (CodeDeploy moves each alias back itself), or, when nothing is in flight, moves each
 * function's `live` alias back to the version before the current one. Data is not touched: schema
 * changes stay backward compatible so the previous code reads what the new code wrote.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CodeDeployClient, ListDeploymentsCommand, StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  GetAliasCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';

export const LIVE = 'live';

/** One function of the stage: its deployment group and the function its live alias points into. */
export interface DeployedTarget {
  readonly name: string;
  readonly application: string;
  readonly group: string;
  readonly functionName: string;
}

/** What a rollback needs from AWS; tests give a fake. */
export interface RollbackPort {
  targets(stackName: string): Promise<DeployedTarget[]>;
  inFlight(application: string, group: string): Promise<string[]>;
  stopWithRollback(deploymentId: string): Promise<void>;
  liveVersion(functionName: string): Promise<string>;
  publishedVersions(functionName: string): Promise<string[]>;
  pointLive(functionName: string, version: string): Promise<void>;
}

export interface RollbackReport {
  readonly stopped: string[];
  readonly moved: { name: string; from: string; to: string }[];
  readonly unchanged: { name: string; reason: string }[];
}

/** The target of each `Deployments<Name>Deployment` group and `Deployments<Name>Live` alias pair. */
export function pairTargets(
  resources: readonly { logicalId: string; type: string; physicalId: string }[],
): DeployedTarget[] {
  const application = resources.find((r) => r.type === 'AWS::CodeDeploy::Application')?.physicalId;
  const groups = new Map<string, string>();
  const aliases = new Map<string, string>();
  for (const r of resources) {
    const group = /^Deployments(\w+?)Deployment[0-9A-F]{8}$/.exec(r.logicalId);
    if (group && r.type === 'AWS::CodeDeploy::DeploymentGroup') groups.set(group[1] as string, r.physicalId);
    const alias = /^Deployments(\w+?)Live[0-9A-F]{8}$/.exec(r.logicalId);
    // An alias's physical id is its ARN: arn:aws:lambda:<region>:<account>:function:<name>:live
    if (alias && r.type === 'AWS::Lambda::Alias')
      aliases.set(alias[1] as string, r.physicalId.split(':')[6] ?? '');
  }
  if (!application) return [];
  return [...groups.entries()].flatMap(([name, group]) => {
    const functionName = aliases.get(name);
    return functionName ? [{ name, application, group, functionName }] : [];
  });
}

export async function rollbackStage(
  stage: string,
  port: RollbackPort,
  progress: (line: string) => void,
): Promise<RollbackReport> {
  const stackName = `AdsEngineer-${stage}`;
  progress(`Finding the functions of ${stackName} ...`);
  const targets = await port.targets(stackName);
  if (targets.length === 0)
    throw new Error(`${stackName} has no deployment groups: is it deployed, with this version?`);
  const report: RollbackReport = { stopped: [], moved: [], unchanged: [] };

  const inFlight: { target: DeployedTarget; id: string }[] = [];
  for (const target of targets) {
    for (const id of await port.inFlight(target.application, target.group)) inFlight.push({ target, id });
  }
  if (inFlight.length) {
    progress(`${inFlight.length} deployment(s) in flight: stopping them with automatic rollback`);
    for (const { target, id } of inFlight) {
      await port.stopWithRollback(id);
      report.stopped.push(id);
      progress(`  stopped ${id} (${target.name}); CodeDeploy moves its alias back`);
    }
    return report;
  }

  progress(`No deployment in flight: moving each ${LIVE} alias to its previous version`);
  for (const target of targets) {
    const current = await port.liveVersion(target.functionName);
    const earlier = (await port.publishedVersions(target.functionName))
      .filter((v) => /^\d+$/.test(v) && Number(v) < Number(current))
      .sort((a, b) => Number(b) - Number(a));
    const previous = earlier[0];
    if (!previous) {
      report.unchanged.push({ name: target.name, reason: `version ${current} is the first one` });
      progress(`  ${target.name}: stays on version ${current} (no earlier version)`);
      continue;
    }
    await port.pointLive(target.functionName, previous);
    report.moved.push({ name: target.name, from: current, to: previous });
    progress(`  ${target.name}: ${LIVE} ${current} -> ${previous}`);
  }
  return report;
}

/** The port over CloudFormation, CodeDeploy and Lambda. */
export function awsRollbackPort(region: string | undefined): RollbackPort {
  const config = region ? { region } : {};
  const cloudformation = new CloudFormationClient(config);
  const codedeploy = new CodeDeployClient(config);
  const lambda = new LambdaClient(config);
  return {
    async targets(stackName) {
      const resources: { logicalId: string; type: string; physicalId: string }[] = [];
      let token: string | undefined;
      do {
        const page = await cloudformation.send(
          new ListStackResourcesCommand({ StackName: stackName, ...(token ? { NextToken: token } : {}) }),
        );
        for (const r of page.StackResourceSummaries ?? []) {
          resources.push({
            logicalId: r.LogicalResourceId ?? '',
            type: r.ResourceType ?? '',
            physicalId: r.PhysicalResourceId ?? '',
          });
        }
        token = page.NextToken;
      } while (token);
      return pairTargets(resources);
    },
    async inFlight(application, group) {
      const out = await codedeploy.send(
        new ListDeploymentsCommand({
          applicationName: application,
          deploymentGroupName: group,
          includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
        }),
      );
      return out.deployments ?? [];
    },
    async stopWithRollback(deploymentId) {
      await codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
    },
    async liveVersion(functionName) {
      const out = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: LIVE }));
      return out.FunctionVersion ?? '';
    },
    async publishedVersions(functionName) {
      const versions: string[] = [];
      let marker: string | undefined;
      do {
        const page = await lambda.send(
          new ListVersionsByFunctionCommand({
            FunctionName: functionName,
            ...(marker ? { Marker: marker } : {}),
          }),
        );
        for (const v of page.Versions ?? []) if (v.Version) versions.push(v.Version);
        marker = page.NextMarker;
      } while (marker);
      return versions;
    },
    async pointLive(functionName, version) {
      // Any routing configuration of a half-finished shift is cleared: all traffic to `version`.
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: functionName,
          Name: LIVE,
          FunctionVersion: version,
          RoutingConfig: {},
        }),
      );
    },
  };
}
