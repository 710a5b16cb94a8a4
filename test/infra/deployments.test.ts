import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUNCTIONS } from '../../contract/resources';
import { ROUTES } from '../../contract/routes';
import { domainSettingsFrom } from '../../infra/constructs/custom-domain';
import { DEFAULT_ROLLBACK_ALARMS } from '../../infra/constructs/deployments';
import { GitHubDeployAccessStack } from '../../infra/deploy/github-deploy-access';
import { logicalId, synthesize, TEST_ENV } from './build';

const DOMAIN = {
  domainName: 'api.adsengineer.example',
  hostedZoneId: 'Z0123456789ABC',
  hostedZoneName: 'adsengineer.example',
};

function nag(stack: Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

describe('safe deploys', () => {
  const prod = synthesize('prod');
  const dev = synthesize('dev');

  test('every function serves through a live alias on a published version', () => {
    for (const definition of FUNCTIONS) {
      const { alias } = prod.stack.deployments.live.get(definition.id);
      const fn = prod.stack.functions.functions.get(definition.id).fn;
      prod.template.hasResourceProperties('AWS::Lambda::Alias', {
        Name: 'live',
        FunctionName: { Ref: logicalId(prod.stack, fn) },
        FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp(`CurrentVersion`), 'Version'] },
      });
      expect(alias.aliasName).toBe('live');
    }
    prod.template.resourceCountIs('AWS::Lambda::Alias', FUNCTIONS.length);
  });

  test('the API invokes the aliases, never the unqualified functions', () => {
    const permissions = prod.template.findResources('AWS::Lambda::Permission', {
      Properties: { Principal: 'apigateway.amazonaws.com' },
    });
    const servedBy = new Set(ROUTES.map((r) => r.functionId));
    expect(Object.keys(permissions).length).toBeGreaterThanOrEqual(servedBy.size);
    for (const permission of Object.values(permissions)) {
      const target = JSON.stringify(permission.Properties.FunctionName);
      expect(target).toMatch(/Live/);
    }
    const methods = prod.template.findResources('AWS::ApiGateway::Method');
    for (const method of Object.values(methods)) {
      expect(JSON.stringify(method.Properties.Integration.Uri)).toMatch(/Live[0-9A-F]+/);
    }
  });

  test('prod shifts 10 % for 5 minutes, dev all at once; both roll back on failure, stop and alarm', () => {
    const groups = (template: Template) =>
      Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'));
    for (const [template, config] of [
      [prod.template, 'CodeDeployDefault.LambdaCanary10Percent5Minutes'],
      [dev.template, 'CodeDeployDefault.LambdaAllAtOnce'],
    ] as const) {
      expect(groups(template)).toHaveLength(FUNCTIONS.length);
      for (const group of groups(template)) {
        expect(group.Properties.DeploymentConfigName).toBe(config);
        expect(group.Properties.AutoRollbackConfiguration.Enabled).toBe(true);
        expect(group.Properties.AutoRollbackConfiguration.Events.sort()).toEqual([
          'DEPLOYMENT_FAILURE',
          'DEPLOYMENT_STOP_ON_ALARM',
          'DEPLOYMENT_STOP_ON_REQUEST',
        ]);
        expect(group.Properties.AlarmConfiguration.Enabled).toBe(true);
      }
    }
  });

  test("each group watches its function's error alarm, and API functions the API objective alarms", () => {
    const alarmName = (id: string) =>
      prod.stack.resolve(prod.stack.monitoring.alarms.find((a) => a.node.id === id)?.alarmName);
    for (const definition of FUNCTIONS) {
      const groupId = logicalId(prod.stack, prod.stack.deployments.live.get(definition.id).group);
      const group = prod.template.toJSON().Resources[groupId];
      const names = JSON.stringify(group.Properties.AlarmConfiguration.Alarms);
      const errors = `Errors${definition.id.charAt(0).toUpperCase()}${definition.id.slice(1)}`;
      expect(names).toContain(JSON.stringify(alarmName(errors)).slice(1, -1));
      const servesApi = ROUTES.some((r) => r.functionId === definition.id);
      expect(names.includes(JSON.stringify(alarmName('SloAvailabilityFast')).slice(1, -1))).toBe(servesApi);
      expect(names).not.toContain(JSON.stringify(alarmName('SloAvailabilitySlow')).slice(1, -1));
      // CloudFormation: at most 10 alarms in a deployment group's AlarmConfiguration.
      expect(group.Properties.AlarmConfiguration.Alarms.length).toBeLessThanOrEqual(10);
    }
  });

  test('rollback alarms: the function own error alarm; for the API its 5xx, latency and objective alarms', () => {
    expect(DEFAULT_ROLLBACK_ALARMS.ofFunction('conversionUploader', 'ErrorsConversionUploader')).toBe(true);
    expect(DEFAULT_ROLLBACK_ALARMS.ofFunction('api', 'ErrorsLeads')).toBe(false);
    for (const id of ['Api5xxRate', 'ApiLatencyP99', 'SloAvailabilityFast', 'SloLatencyFast']) {
      expect({ id, api: DEFAULT_ROLLBACK_ALARMS.ofApi(id) }).toEqual({ id, api: true });
    }
    for (const id of [
      'DlqWebhooks',
      'MetricGoogleAdsDisconnected',
      'Apis',
      'SloAvailabilityMedium',
      'SloAvailabilitySlow',
      'SloAvailabilityFastLong',
    ]) {
      expect({ id, api: DEFAULT_ROLLBACK_ALARMS.ofApi(id) }).toEqual({ id, api: false });
    }
  });

  test('no custom domain without the context: no certificate, the execute-api endpoint stays on', () => {
    prod.template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    prod.template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    prod.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      DisableExecuteApiEndpoint: Match.absent(),
    });
  });

  test('every secret carries the stage and setting tags config check finds it by', () => {
    for (const setting of [
      'jwt-secret',
      'email-hash-key',
      'stripe-webhook-secret',
      'stripe-api-key',
      'google-ads-developer-token',
    ]) {
      prod.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Tags: Match.arrayWith([
          { Key: 'adsengineer:setting', Value: setting },
          { Key: 'adsengineer:stage', Value: 'prod' },
        ]),
      });
    }
  });

  test('cdk-nag stays clean with the aliases and deployment groups', () => {
    expect(nag(prod.stack)).toEqual([]);
  });
});

describe('custom domain', () => {
  const { stack, template } = synthesize('prod', { domain: DOMAIN });

  test('a DNS-validated certificate, a regional domain with TLS 1.2+, alias records, no execute-api', () => {
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: DOMAIN.domainName,
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: DOMAIN.domainName, HostedZoneId: DOMAIN.hostedZoneId }],
    });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: DOMAIN.domainName,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
      EndpointAccessMode: 'STRICT',
    });
    template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      RestApiId: { Ref: logicalId(stack, stack.api.restApi) },
    });
    for (const type of ['A', 'AAAA']) {
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: `${DOMAIN.domainName}.`,
        Type: type,
        HostedZoneId: DOMAIN.hostedZoneId,
        AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
      });
    }
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    template.hasOutput('DomainUrl', { Value: `https://${DOMAIN.domainName}` });
    expect(nag(stack)).toEqual([]);
  });

  test('context: all three or none, and the domain inside its zone', () => {
    const from = (values: Record<string, string>) => domainSettingsFrom((name) => values[name]);
    expect(from({})).toBeUndefined();
    expect(
      from({ ...DOMAIN, domainName: 'API.AdsEngineer.example', hostedZoneName: 'adsengineer.example.' }),
    ).toEqual({ ...DOMAIN });
    expect(() => from({ domainName: DOMAIN.domainName })).toThrow(
      'A custom domain needs domainName, hostedZoneId and hostedZoneName; missing hostedZoneId, hostedZoneName',
    );
    expect(() => from({ ...DOMAIN, domainName: 'api.other.example' })).toThrow(
      'domainName api.other.example is not inside the hosted zone adsengineer.example',
    );
  });
});

describe('GitHub deploy access', () => {
  const build = (props: { existingProviderArn?: string } = {}) => {
    const stack = new GitHubDeployAccessStack(new App(), 'AdsEngineer-GitHubDeploy', {
      env: TEST_ENV,
      repository: 'acme@42/adsengineer@4242',
      ...props,
    });
    return { stack, template: Template.fromStack(stack) };
  };

  test('an OIDC provider for GitHub, trusted only by the repository deploy environments', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRoleWithWebIdentity',
            Effect: 'Allow',
            Principal: { Federated: Match.anyValue() },
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': [
                  'repo:acme@42/adsengineer@4242:environment:staging',
                  'repo:acme@42/adsengineer@4242:environment:production',
                ],
              },
            },
          },
        ],
      },
    });
  });

  test('the role may assume the four CDK bootstrap roles and do nothing else', () => {
    const { template } = build();
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    const statements = policies[0]?.Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Sid: 'AssumeCdkBootstrapRoles',
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map((kind) => ({
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              `:iam::123456789012:role/cdk-hnb659fds-${kind}-role-123456789012-eu-west-1`,
            ],
          ],
        })),
      },
    ]);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });

  test('an existing provider is reused, and a malformed repository refused', () => {
    const { template } = build({
      existingProviderArn: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
    });
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(() => new GitHubDeployAccessStack(new App(), 'X', { repository: 'not a repo' })).toThrow(
      'githubRepository must look like org/repo (or org@id/repo@id), not not a repo',
    );
  });

  test('cdk-nag finds nothing to acknowledge', () => {
    expect(nag(build().stack)).toEqual([]);
  });
});
