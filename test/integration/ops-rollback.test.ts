/**
 * `rollback --stage` against the emulator's Lambda and CodeDeploy: the live aliases really move
 * back, version by version, and in-flight deployments are found by CodeDeploy's own status
 * filter. The emulator's CloudFormation does not model CodeDeploy groups or Lambda aliases, so
 * the stack's resource list is given as CloudFormation lists it; the emulator's CodeDeploy has no
 * StopDeployment, so stopping is recorded (the unit tests pin the request it sends).
 */
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
} from '@aws-sdk/client-codedeploy';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { run } from '../../ops/cli';
import { awsRollbackPort, pairTargets, type RollbackPort } from '../../ops/rollback';
import { emulatorUrl, freshResources } from '../support/emulator';
import { capture } from '../support/operator';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/adsengineer-test-functions`;
const APPLICATION = 'AdsEngineer-test-deployments';

/** IAM has no client in this project: the emulator takes the query API with any signature. */
async function createRole(): Promise<void> {
  const res = await fetch(emulatorUrl(), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({
      Action: 'CreateRole',
      Version: '2010-05-08',
      RoleName: 'adsengineer-test-functions',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }).toString(),
  });
  expect(res.status).toBe(200);
}

/** What CloudFormation lists for a stage's functions: one deployment group and live alias each. */
function stackResources(functions: Record<string, string>) {
  return [
    {
      logicalId: 'DeploymentsApplication5B1C6C58',
      type: 'AWS::CodeDeploy::Application',
      physicalId: APPLICATION,
    },
    ...Object.entries(functions).flatMap(([name, functionName]) => [
      {
        logicalId: `Deployments${name}DeploymentA1B2C3D4`,
        type: 'AWS::CodeDeploy::DeploymentGroup',
        physicalId: `${functionName}-group`,
      },
      {
        logicalId: `Deployments${name}Live0F1E2D3C`,
        type: 'AWS::Lambda::Alias',
        physicalId: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}:live`,
      },
      { logicalId: `${name}Function12345678`, type: 'AWS::Lambda::Function', physicalId: functionName },
    ]),
  ];
}

describe('rollback --stage against the emulator', () => {
  let lambda: LambdaClient;
  let codedeploy: CodeDeployClient;
  const functions = { Api: 'adsengineer-test-api', Leads: 'adsengineer-test-leads' };
  const stacks: string[] = [];
  const stopped: string[] = [];

  /** The AWS port, with the stack's resources as CloudFormation lists them and stops recorded. */
  const port = (): RollbackPort => ({
    ...awsRollbackPort(REGION),
    targets: async (stackName) => {
      stacks.push(stackName);
      return pairTargets(stackResources(functions));
    },
    stopWithRollback: async (id) => {
      stopped.push(id);
    },
  });

  /** Publishes `count` versions of the function and points live at the last one. */
  async function deploy(functionName: string, count: number): Promise<void> {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: functionName,
        Runtime: 'nodejs24.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: Buffer.from('version 1') },
      }),
    );
    let last = '';
    for (let i = 1; i <= count; i++) {
      if (i > 1)
        await lambda.send(
          new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: Buffer.from(`version ${i}`) }),
        );
      last = (await lambda.send(new PublishVersionCommand({ FunctionName: functionName }))).Version as string;
    }
    await lambda.send(
      new CreateAliasCommand({ FunctionName: functionName, Name: 'live', FunctionVersion: last }),
    );
  }

  const live = async (functionName: string) =>
    (await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))).FunctionVersion;

  beforeAll(async () => {
    await freshResources();
    lambda = new LambdaClient({ region: REGION });
    codedeploy = new CodeDeployClient({ region: REGION });
    await createRole();
    await deploy(functions.Api, 3);
    await deploy(functions.Leads, 1);
    await codedeploy.send(
      new CreateApplicationCommand({ applicationName: APPLICATION, computePlatform: 'Lambda' }),
    );
    for (const functionName of Object.values(functions))
      await codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: APPLICATION,
          deploymentGroupName: `${functionName}-group`,
          serviceRoleArn: ROLE,
        }),
      );
  });

  it('moves each live alias to its previous version, one step per run, and leaves a first version alone', async () => {
    expect(await live(functions.Api)).toBe('3');
    const io = capture();
    expect(await run(['rollback', '--stage', 'dev'], io, port)).toBe(0);
    expect(stacks).toEqual(['AdsEngineer-dev']);
    expect(await live(functions.Api)).toBe('2');
    expect(await live(functions.Leads)).toBe('1');
    expect(io.stderr).toEqual([
      'Finding the functions of AdsEngineer-dev ...',
      'No deployment in flight: moving each live alias to its previous version',
      '  Api: live 3 -> 2',
      '  Leads: stays on version 1 (no earlier version)',
      'Rollback of dev done: 1 alias(es) moved back, 1 unchanged',
    ]);
    expect(await run(['rollback', '--stage', 'dev'], capture(), port)).toBe(0);
    expect(await live(functions.Api)).toBe('1');
    const last = capture();
    expect(await run(['rollback', '--stage', 'dev'], last, port)).toBe(0);
    expect(await live(functions.Api)).toBe('1');
    expect(last.stderr.at(-1)).toBe('Rollback of dev done: 0 alias(es) moved back, 2 unchanged');
    expect(stopped).toEqual([]);
  });

  it('stops a deployment CodeDeploy reports in flight instead of moving any alias', async () => {
    const before = await live(functions.Api);
    const { deploymentId } = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: APPLICATION,
        deploymentGroupName: `${functions.Leads}-group`,
      }),
    );
    const io = capture();
    expect(await run(['rollback', '--stage', 'dev'], io, port)).toBe(0);
    expect(stopped).toEqual([deploymentId]);
    expect(io.stderr).toEqual([
      'Finding the functions of AdsEngineer-dev ...',
      '1 deployment(s) in flight: stopping them with automatic rollback',
      `  stopped ${deploymentId} (Leads); CodeDeploy moves its alias back`,
      'Rollback of dev started: 1 deployment(s) stopped; watch them in CodeDeploy',
    ]);
    expect(await live(functions.Api)).toBe(before);
  });

  it('refuses a stage without deployment groups, and an unknown stage, in clear sentences', async () => {
    const empty = capture();
    const nothing = (): RollbackPort => ({ ...port(), targets: async () => pairTargets([]) });
    expect(await run(['rollback', '--stage', 'staging'], empty, nothing)).toBe(1);
    expect(empty.stderr.at(-1)).toBe(
      'Failed: AdsEngineer-staging has no deployment groups: is it deployed, with this version?',
    );
    const usage = capture();
    expect(await run(['rollback', '--stage', 'qa'], usage, port)).toBe(2);
    expect(usage.stderr[0]).toMatch(/^rollback needs --stage </);
  });

  it('fails with the AWS error when a live alias is missing', async () => {
    const io = capture();
    const missing = (): RollbackPort => ({
      ...port(),
      targets: async () => pairTargets(stackResources({ Admin: 'adsengineer-test-admin' })),
    });
    expect(await run(['rollback', '--stage', 'prod'], io, missing)).toBe(1);
    expect(io.stderr.at(-1)).toMatch(/^Failed: .*adsengineer-test-admin/);
  });
});
