import { publicBaseUrl } from '../../functions/shared/platform/config/public-url';
import { ConfigurationError } from '../../functions/shared/platform/config/resources';

describe('public base URL of the API', () => {
  it('is PUBLIC_BASE_URL as configured, without a trailing slash', () => {
    expect(
      publicBaseUrl({ PUBLIC_BASE_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod' }),
    ).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod');
    expect(publicBaseUrl({ PUBLIC_BASE_URL: 'https://api.adsengineer.example/' })).toBe(
      'https://api.adsengineer.example',
    );
    expect(publicBaseUrl({ PUBLIC_BASE_URL: 'http://127.0.0.1:3000' })).toBe('http://127.0.0.1:3000');
  });

  it('refuses to hand out URLs when it is missing or not a plain http(s) base', () => {
    for (const value of [
      undefined,
      '',
      'api.adsengineer.example',
      'ftp://api.adsengineer.example',
      'javascript:alert(1)',
      'https://api.adsengineer.example/?next=x',
      'https://api.adsengineer.example/#x',
      'https://user:pw@api.adsengineer.example',
    ]) {
      expect(() => publicBaseUrl(value === undefined ? {} : { PUBLIC_BASE_URL: value })).toThrow(
        ConfigurationError,
      );
    }
  });
});
