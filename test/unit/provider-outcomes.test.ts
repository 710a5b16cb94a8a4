import { googleAdsOutcome } from '../../functions/shared/providers/google-ads/breaker';
import { GoogleAdsFailure } from '../../functions/shared/providers/google-ads/tokens';
import { metaOutcome } from '../../functions/shared/providers/meta/breaker';
import { MetaFailure } from '../../functions/shared/providers/meta/results';

describe('which failures open a provider’s circuit', () => {
  it('Google: timeouts, connection errors, 5xx and 429 only', () => {
    expect(googleAdsOutcome(new GoogleAdsFailure('transient', 'Google Ads timed out'))).toBe('failure');
    expect(googleAdsOutcome(new GoogleAdsFailure('transient', '503', undefined, 503))).toBe('failure');
    expect(googleAdsOutcome(new GoogleAdsFailure('transient', '429', 30, 429))).toBe('failure');
    // One tenant's access token, account, refresh token or request: Google is fine.
    expect(googleAdsOutcome(new GoogleAdsFailure('transient', '401', undefined, 401))).toBe('success');
    expect(googleAdsOutcome(new GoogleAdsFailure('configuration', 'permission', undefined, 403))).toBe(
      'success',
    );
    expect(googleAdsOutcome(new GoogleAdsFailure('disconnected', 'invalid_grant', undefined, 400))).toBe(
      'success',
    );
    expect(googleAdsOutcome(new GoogleAdsFailure('rejected', 'bad request', undefined, 400))).toBe('success');
    expect(googleAdsOutcome(new Error('KMS'))).toBe('neutral');
  });

  it('Meta: transport, 5xx, transient codes and the application-wide rate limit only', () => {
    expect(metaOutcome(new MetaFailure('transient', 'Meta did not answer within 1.5 s'))).toBe('failure');
    expect(metaOutcome(new MetaFailure('throttled', 'app limit', 4, undefined, 400))).toBe('failure');
    expect(metaOutcome(new MetaFailure('throttled', 'ad account limit', 80004, undefined, 400))).toBe(
      'success',
    );
    expect(metaOutcome(new MetaFailure('disconnected', 'token', 190, undefined, 400))).toBe('success');
    expect(metaOutcome(new MetaFailure('rejected', 'invalid parameter', 100, undefined, 400))).toBe(
      'success',
    );
    expect(metaOutcome(new MetaFailure('configuration', 'version', 2635, undefined, 400))).toBe('success');
    expect(metaOutcome(new TypeError('bug'))).toBe('neutral');
  });
});
