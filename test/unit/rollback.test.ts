import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { run } from '../../ops/cli';
import { awsRollbackPort, pairTargets, type RollbackPort } from '../../ops/rollback';
import { capture } from '../support/operator';

/** An in-memory stage: two functions with published versions, live aliases and deployments. */
function fakeStage(state: {
  live: Record<string, string>;
  versions: Record<string, string[]>;
  inFlight?: Record<string, string[]>;
}) {
  const calls: string[] = [];
  const port: RollbackPort = {
    targets: async (stack) => {
      calls.push(`targets ${stack}`);
      return [
        { name: 'Api', application: 'app', group: 'api-group', functionName: 'fn-api' },
        { name: 'Leads', application: 'app', group: 'leads-group', functionName: 'fn-leads' },
      ];
    },
    inFlight: async (_app, group) => state.inFlight?.[group] ?? [],
    stopWithRollback: async (id) => {
      calls.push(`stop ${id}`);
    },
    liveVersion: async (fn) => state.live[fn] ?? '',
    publishedVersions: async (fn) => state.versions[fn] ?? [],
    pointLive: async (fn, version) => {
      calls.push(`point ${fn} ${version}`);
      state.live[fn] = version;
    },
  };
  return { port, calls, state };
}

describe('rollback --stage', () => {
  it('stops in-flight deployments with automatic rollback and leaves the aliases to CodeDeploy', async () => {
    const { port, calls } = fakeStage({
      live: { 'fn-api': '7', 'fn-leads': '4' },
      versions: { 'fn-api': ['$LATEST', '6', '7'], 'fn-leads': ['$LATEST', '3', '4'] },
      inFlight: { 'api-group': ['d-API1'] },
    });
    const io = capture();
    expect(await run(['rollback', '--stage', 'prod'], io, () => port)).toBe(0);
    expect(calls).toEqual(['targets AdsEngineer-prod', 'stop d-API1']);
    expect(io.stderr.at(-1)).toBe(
      'Rollback of prod started: 1 deployment(s) stopped; watch them in CodeDeploy',
    );
  });

  it('moves each live alias to the version before the current one when nothing is in flight', async () => {
    const { port, calls, state } = fakeStage({
      live: { 'fn-api': '10', 'fn-leads': '1' },
      versions: { 'fn-api': ['$LATEST', '2', '9', '10', '11'], 'fn-leads': ['$LATEST', '1'] },
    });
    const io = capture();
    expect(await run(['rollback', '--stage', 'staging'], io, () => port)).toBe(0);
    expect(calls).toEqual(['targets AdsEngineer-staging', 'point fn-api 9']);
    expect(state.live).toEqual({ 'fn-api': '9', 'fn-leads': '1' });
    expect(io.stderr).toContain('  Api: live 10 -> 9');
    expect(io.stderr).toContain('  Leads: stays on version 1 (no earlier version)');
    expect(io.stderr.at(-1)).toBe('Rollback of staging done: 1 alias(es) moved back, 1 unchanged');
  });

  it('refuses an unknown stage and fails clearly for a stack without deployment groups', async () => {
    const { port } = fakeStage({ live: {}, versions: {} });
    expect(await run(['rollback', '--stage', 'qa'], capture(), () => port)).toBe(2);
    const empty = capture();
    const none: RollbackPort = { ...port, targets: async () => [] };
    expect(await run(['rollback', '--stage', 'dev'], empty, () => none)).toBe(1);
    expect(empty.stderr.at(-1)).toBe(
      'Failed: AdsEngineer-dev has no deployment groups: is it deployed, with this version?',
    );
  });

  it('pairs deployment groups and aliases from the stack resources', () => {
    expect(
      pairTargets([
        {
          logicalId: 'DeploymentsApplicationA1B2C3D4',
          type: 'AWS::CodeDeploy::Application',
          physicalId: 'app-1',
        },
        {
          logicalId: 'DeploymentsApiDeployment0A1B2C3D',
          type: 'AWS::CodeDeploy::DeploymentGroup',
          physicalId: 'grp-api',
        },
        {
          logicalId: 'DeploymentsApiLiveF00DBABE',
          type: 'AWS::Lambda::Alias',
          physicalId: 'arn:aws:lambda:eu-west-1:123456789012:function:AdsEngineer-prod-Api1234:live',
        },
        {
          logicalId: 'DeploymentsGdprDeploymentDEADBEEF',
          type: 'AWS::CodeDeploy::DeploymentGroup',
          physicalId: 'grp-gdpr',
        },
      ]),
    ).toEqual([
      { name: 'Api', application: 'app-1', group: 'grp-api', functionName: 'AdsEngineer-prod-Api1234' },
    ]);
    expect(pairTargets([])).toEqual([]);
  });
});

describe('the AWS side of rollback', () => {
  afterEach(() => jest.restoreAllMocks());

  it('reads the stack page by page, lists in-flight deployments, stops with rollback, moves the alias', async () => {
    const sent: { client: string; command: string; input: Record<string, unknown> }[] = [];
    type Command = { constructor: { name: string }; input: Record<string, unknown> };
    const prototypes = {
      cf: CloudFormationClient.prototype,
      cd: CodeDeployClient.prototype,
      lambda: LambdaClient.prototype,
    } as unknown as Record<string, { send: (command: Command) => Promise<unknown> }>;
    // The stack's CodeDeploy application and deployment group, as ListStackResources lists them.
    const codeDeploy = [
      {
        LogicalResourceId: 'DeploymentsApplicationA1B2C3D4',
        ResourceType: 'AWS::CodeDeploy::Application',
        PhysicalResourceId: 'app',
      },
      {
        LogicalResourceId: 'DeploymentsApiDeployment0A1B2C3D',
        ResourceType: 'AWS::CodeDeploy::DeploymentGroup',
        PhysicalResourceId: 'grp',
      },
    ];
    const answer = (client: string, replies: (input: Record<string, unknown>, command: string) => unknown) =>
      jest
        .spyOn(prototypes[client] as { send: (command: Command) => Promise<unknown> }, 'send')
        .mockImplementation(async (command: Command) => {
          sent.push({ client, command: command.constructor.name, input: command.input });
          return replies(command.input, command.constructor.name);
        });
    answer('cf', (input) =>
      input.NextToken
        ? {
            StackResourceSummaries: [
              {
                LogicalResourceId: 'DeploymentsApiLiveF00DBABE',
                ResourceType: 'AWS::Lambda::Alias',
                PhysicalResourceId: 'arn:aws:lambda:eu-west-1:1:function:fn-api:live',
              },
            ],
          }
        : {
            StackResourceSummaries: [...codeDeploy],
            NextToken: 'page2',
          },
    );
    answer('cd', (_input, command) => (command === 'ListDeploymentsCommand' ? { deployments: [] } : {}));
    answer('lambda', (input, command) => {
      if (command === 'GetAliasCommand') return { FunctionVersion: '5' };
      if (command === 'ListVersionsByFunctionCommand')
        return input.Marker
          ? { Versions: [{ Version: '4' }, { Version: '5' }] }
          : { Versions: [{ Version: '$LATEST' }], NextMarker: 'm' };
      return {};
    });
    const io = capture();
    expect(await run(['rollback', '--stage', 'prod'], io, () => awsRollbackPort('eu-west-1'))).toBe(0);
    expect(sent.map((s) => `${s.client} ${s.command}`)).toEqual([
      'cf ListStackResourcesCommand',
      'cf ListStackResourcesCommand',
      'cd ListDeploymentsCommand',
      'lambda GetAliasCommand',
      'lambda ListVersionsByFunctionCommand',
      'lambda ListVersionsByFunctionCommand',
      'lambda UpdateAliasCommand',
    ]);
    expect(sent.at(-1)?.input).toEqual({
      FunctionName: 'fn-api',
      Name: 'live',
      FunctionVersion: '4',
      RoutingConfig: {},
    });
    expect(sent[2]?.input).toMatchObject({ applicationName: 'app', deploymentGroupName: 'grp' });

    sent.length = 0;
    jest.restoreAllMocks();
    answer('cf', () => ({
      StackResourceSummaries: [
        ...codeDeploy,
        {
          LogicalResourceId: 'DeploymentsApiLiveF00DBABE',
          ResourceType: 'AWS::Lambda::Alias',
          PhysicalResourceId: 'arn:aws:lambda:r:1:function:fn-api:live',
        },
      ],
    }));
    answer('cd', (_input, command) => (command === 'ListDeploymentsCommand' ? { deployments: ['d-1'] } : {}));
    expect(await run(['rollback', '--stage', 'prod'], capture(), () => awsRollbackPort(undefined))).toBe(0);
    expect(sent.at(-1)).toEqual({
      client: 'cd',
      command: 'StopDeploymentCommand',
      input: { deploymentId: 'd-1', autoRollbackEnabled: true },
    });
  });
});
