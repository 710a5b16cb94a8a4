import { publicBaseUrl } from '../../functions/shared/public-url';

describe('public base URL of the API', () => {
  it('keeps the stage in the path on the execute-api host', () => {
    expect(publicBaseUrl('abc123.execute-api.eu-west-1.amazonaws.com', 'prod')).toBe(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
    );
  });

  it('has no stage prefix on a custom domain, which maps the stage at its root', () => {
    expect(publicBaseUrl('api.adsengineer.example', 'prod')).toBe('https://api.adsengineer.example');
  });

  it('is plain HTTP for the local run mode', () => {
    expect(publicBaseUrl('127.0.0.1:3000', 'local')).toBe('http://127.0.0.1:3000');
    expect(publicBaseUrl(undefined, undefined)).toBe('http://localhost');
  });
});
