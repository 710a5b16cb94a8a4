import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ROUTES } from '../../contract/routes';
import { SECURITY_HEADERS } from '../../contract/security-headers';
import { STAGE_SETTINGS, type Stage } from '../../contract/stages';
import { type Json, logicalId, properties, resources, stagesBuiltOnce } from './build';

const stagesUnderTest: Stage[] = ['dev', 'prod'];
const get = stagesBuiltOnce(stagesUnderTest);

/** Full path of every API Gateway resource, from its PathPart chain up to the root. */
function resourcePaths(template: Template, restApiId: string): Map<string, string> {
  const all = resources(template, 'AWS::ApiGateway::Resource');
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const props = all[id]?.Properties ?? {};
    const parent = props.ParentId as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
    const parentPath = parent['Fn::GetAtt']?.[0] === restApiId ? '' : pathOf(parent.Ref ?? '');
    const full = `${parentPath}/${String(props.PathPart)}`;
    paths.set(id, full);
    return full;
  };
  for (const id of Object.keys(all)) pathOf(id);
  return paths;
}

function gatewayResponse(template: Template, type: string) {
  const found = Object.values(resources(template, 'AWS::ApiGateway::GatewayResponse')).find(
    (r) => r.Properties?.ResponseType === type,
  );
  if (!found) throw new Error(`no gateway response ${type}`);
  return found.Properties as {
    StatusCode?: string;
    ResponseParameters: Record<string, string>;
    ResponseTemplates: Record<string, string>;
  };
}

/** The body API Gateway would send, with its variables filled in. */
function renderedBody(template: string): Record<string, Json> {
  return JSON.parse(
    template
      .replaceAll('$context.error.messageString', JSON.stringify('Invalid request body'))
      .replaceAll('$context.requestId', 'req-123'),
  );
}

describe.each(stagesUnderTest)('API in %s', (stage) => {
  const settings = STAGE_SETTINGS[stage];

  test('a REGIONAL REST API that passes every body through as binary and compresses answers of 1 KB or more', () => {
    const { template } = get(stage);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: `adsengineer-${stage}`,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      BinaryMediaTypes: ['*/*'],
      MinimumCompressionSize: 1024,
    });
  });

  test('the stage is named after the stage, throttled, and writes JSON access logs', () => {
    const { stack, template } = get(stage);
    template.resourceCountIs('AWS::ApiGateway::Stage', 1);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: stage,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: settings.throttlingRateLimit,
          ThrottlingBurstLimit: settings.throttlingBurstLimit,
        }),
      ]),
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack, stack.api.accessLogs), 'Arn'] },
        Format: Match.anyValue(),
      },
    });
    const [stageId] = Object.keys(resources(template, 'AWS::ApiGateway::Stage'));
    const format = (properties(template, stageId ?? '').AccessLogSetting as { Format: string }).Format;
    expect(JSON.parse(format)).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      method: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
      latency: '$context.responseLatency',
    });
    // The raw path or query could hold a webhook token or a subject id: only the route template.
    for (const variable of Object.values(JSON.parse(format) as Record<string, string>)) {
      expect(['$context.path', '$context.resourceId'].includes(variable)).toBe(false);
      expect(variable).not.toMatch(/querystring|header|authorizer|input\.|requestOverride/i);
    }
    const logGroup = resources(template)[logicalId(stack, stack.api.accessLogs)];
    expect(logGroup?.Properties?.RetentionInDays).toBe(settings.accessLogRetentionDays);
  });

  test('no CORS preflight methods, one method per route', () => {
    const { template } = get(stage);
    template.resourceCountIs('AWS::ApiGateway::Method', ROUTES.length);
    const methods = Object.values(resources(template, 'AWS::ApiGateway::Method'));
    expect(methods.map((m) => m.Properties?.HttpMethod)).not.toContain('OPTIONS');
  });

  test.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'route %s is an API method',
    (_, route) => {
      const { stack, template } = get(stage);
      const restApiId = logicalId(stack, stack.api.restApi);
      const paths = resourcePaths(template, restApiId);
      // The live alias, which CodeDeploy moves between versions (infra/constructs/deployments.ts).
      const aliasId = logicalId(stack, stack.deployments.live.get(route.functionId).alias);
      const matches = Object.values(resources(template, 'AWS::ApiGateway::Method')).filter((method) => {
        const props = method.Properties ?? {};
        const resourceRef = props.ResourceId as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
        const methodPath = resourceRef.Ref ? paths.get(resourceRef.Ref) : '/';
        return props.HttpMethod === route.method && methodPath === route.path;
      });
      expect(matches).toHaveLength(1);
      const integration = matches[0]?.Properties?.Integration;
      expect(integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      expect(JSON.stringify(integration)).toContain(JSON.stringify({ Ref: aliasId }));
    },
  );

  test('one API-scoped invoke permission per function behind the API', () => {
    const { stack, template } = get(stage);
    const functionIds = [...new Set(ROUTES.map((r) => r.functionId))];
    template.resourceCountIs('AWS::Lambda::Permission', functionIds.length);
    for (const id of functionIds) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { Ref: logicalId(stack, stack.deployments.live.get(id).alias) },
      });
    }
  });

  test('an unknown route answers 404 not_found in the contract shape with X-Request-Id', () => {
    const response = gatewayResponse(get(stage).template, 'MISSING_AUTHENTICATION_TOKEN');
    expect(response.StatusCode).toBe('404');
    expect(response.ResponseParameters).toEqual({
      'gatewayresponse.header.X-Request-Id': 'context.requestId',
      'gatewayresponse.header.Strict-Transport-Security': "'max-age=31536000; includeSubDomains'",
      'gatewayresponse.header.X-Content-Type-Options': "'nosniff'",
      'gatewayresponse.header.Cache-Control': "'no-store'",
    });
    expect(JSON.parse(response.ResponseTemplates['application/json'] ?? '')).toEqual({
      error: 'not_found',
      message: 'No route matches this request',
      request_id: '$context.requestId',
    });
  });

  test('throttling answers 429 rate_limit_exceeded with retry_after and Retry-After', () => {
    const response = gatewayResponse(get(stage).template, 'THROTTLED');
    expect(response.StatusCode).toBe('429');
    expect(response.ResponseParameters).toMatchObject({
      'gatewayresponse.header.X-Request-Id': 'context.requestId',
      'gatewayresponse.header.Retry-After': "'1'",
    });
    expect(renderedBody(response.ResponseTemplates['application/json'] ?? '')).toEqual({
      error: 'rate_limit_exceeded',
      message: 'Too many requests',
      retry_after: 1,
      request_id: 'req-123',
    });
  });

  test('gateway 5xx are internal_error without internals; other 4xx keep their status', () => {
    const { template } = get(stage);
    const fiveXx = gatewayResponse(template, 'DEFAULT_5XX');
    expect(fiveXx.StatusCode).toBeUndefined();
    expect(renderedBody(fiveXx.ResponseTemplates['application/json'] ?? '')).toEqual({
      error: 'internal_error',
      message: 'An internal error occurred',
      request_id: 'req-123',
    });
    const fourXx = gatewayResponse(template, 'DEFAULT_4XX');
    expect(fourXx.StatusCode).toBeUndefined();
    expect(renderedBody(fourXx.ResponseTemplates['application/json'] ?? '')).toEqual({
      error: 'bad_request',
      message: 'Invalid request body',
      request_id: 'req-123',
    });
  });

  test('every gateway response has the contract shape and the request id header', () => {
    const all = Object.values(resources(get(stage).template, 'AWS::ApiGateway::GatewayResponse'));
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const response of all) {
      const props = response.Properties as {
        ResponseParameters: Record<string, string>;
        ResponseTemplates: Record<string, string>;
      };
      expect(props.ResponseParameters['gatewayresponse.header.X-Request-Id']).toBe('context.requestId');
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        expect(props.ResponseParameters[`gatewayresponse.header.${name}`]).toBe(`'${value}'`);
      }
      const body = renderedBody(props.ResponseTemplates['application/json'] ?? '');
      expect(body).toMatchObject({ error: expect.stringMatching(/^[a-z_]+$/), request_id: 'req-123' });
      expect(typeof body.message).toBe('string');
    }
  });
});
