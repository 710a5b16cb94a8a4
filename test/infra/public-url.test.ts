import { COMMON_ENV_VARS, FUNCTIONS } from '../../contract/resources';
import { ROUTES } from '../../contract/routes';
import { type Json, logicalId, properties, synthesize } from './build';

const DOMAIN = {
  domainName: 'api.adsengineer.example',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  hostedZoneName: 'adsengineer.example',
};
const serving = new Set(ROUTES.map((route) => route.functionId));

function publicUrls(built: ReturnType<typeof synthesize>): Map<string, Json | undefined> {
  const urls = new Map<string, Json | undefined>();
  for (const definition of FUNCTIONS) {
    const fn = built.stack.functions.functions.get(definition.id).fn;
    const variables = (
      properties(built.template, logicalId(built.stack, fn)).Environment as Record<string, Json>
    )?.Variables as Record<string, Json>;
    urls.set(definition.id, variables[COMMON_ENV_VARS.publicBaseUrl]);
  }
  return urls;
}

describe('PUBLIC_BASE_URL set by the stack', () => {
  it("is the stage's execute-api URL, from the API's id, on every function serving a route", () => {
    const built = synthesize('prod');
    const restApi = logicalId(built.stack, built.stack.api.restApi);
    const expected = {
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: restApi },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/prod',
        ],
      ],
    };
    for (const [id, url] of publicUrls(built)) {
      expect([id, url]).toEqual([id, serving.has(id as never) ? expected : undefined]);
    }
    expect(serving.has('api')).toBe(true);
  });

  it('is the custom domain, with the stage at its root, when one is given', () => {
    const built = synthesize('prod', { domain: DOMAIN });
    for (const [id, url] of publicUrls(built)) {
      expect([id, url]).toEqual([id, serving.has(id as never) ? `https://${DOMAIN.domainName}` : undefined]);
    }
  });
});
