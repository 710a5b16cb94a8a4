import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUNCTIONS } from '../../contract/resources';
import { COGNITO_RESOURCE_SERVER_ID, ROLES } from '../../contract/routes';
import type { AdsEngineerStack } from '../../infra/stack';
import { logicalId, resources, synthesize } from './build';

/** Functions whose environment names the pool: the ones that verify tokens. */
function poolEnv(template: Template): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, fn] of Object.entries(resources(template, 'AWS::Lambda::Function'))) {
    const env =
      (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    out[id] = env.COGNITO_USER_POOL_ID;
  }
  return out;
}

describe('Cognito user pool (context cognito=true)', () => {
  let stack: AdsEngineerStack;
  let template: Template;
  beforeAll(() => {
    ({ stack, template } = synthesize('prod', { cognito: true }));
  });

  test('a pool with MFA, a strong password policy and threat protection, kept in prod', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      MfaConfiguration: 'ON',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireSymbols: true }) },
      DeletionProtection: 'ACTIVE',
    });
  });

  test('a resource server for machine-to-machine clients with one scope per role', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: COGNITO_RESOURCE_SERVER_ID,
      Scopes: ROLES.map((role) => ({ ScopeName: role, ScopeDescription: `Act as ${role}` })),
    });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
  });

  test('the token-verifying functions, and only they, learn the pool', () => {
    const pool = { Ref: logicalId(stack, stack.identity?.userPool ?? stack) };
    const envs = poolEnv(template);
    const withPool = Object.entries(envs).filter(([, v]) => v !== undefined);
    expect(withPool.map(([id]) => id).sort()).toEqual(
      FUNCTIONS.filter((f) => f.jwtSecret === 'read')
        .map((f) => logicalId(stack, stack.functions.functions.get(f.id).fn))
        .sort(),
    );
    for (const [, value] of withPool) expect(value).toEqual(pool);
  });

  test('cdk-nag finds nothing to acknowledge in the pool', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(
      report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
    ).toEqual([]);
  });
});

describe('without Cognito', () => {
  test('no pool, and no function is told of one', () => {
    const { template } = synthesize('dev');
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(Object.values(poolEnv(template)).filter((v) => v !== undefined)).toEqual([]);
  });

  test('an existing pool id and client ids reach the token-verifying functions', () => {
    const { stack, template } = synthesize('dev', {
      cognitoUserPoolId: 'eu-west-1_Existing',
      cognitoClientIds: ['c1', 'c2'],
    });
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    const api = logicalId(stack, stack.functions.functions.get('api').fn);
    expect(poolEnv(template)[api]).toBe('eu-west-1_Existing');
    const fn = resources(template, 'AWS::Lambda::Function')[api];
    const env = (fn?.Properties?.Environment ?? {}) as { Variables?: Record<string, unknown> };
    expect(env.Variables).toMatchObject({
      COGNITO_USER_POOL_ID: 'eu-west-1_Existing',
      COGNITO_CLIENT_IDS: 'c1,c2',
    });
  });
});
