import type {
  AdjustmentMessage,
  RequestStatusMessage,
} from '../../functions/shared/features/conversions/model';

/** Messages of the conversions queue as their producers queue them, for the uploader's tests. */

export const adjustmentMessage = (
  conversionId: string,
  id = 'adj_1',
  tenantId = 't1',
): AdjustmentMessage => ({
  version: 1,
  kind: 'adjustment',
  tenant_id: tenantId,
  conversion_id: conversionId,
  adjustment_id: id,
});

/** A later read of request `b1`'s processing outcome at Google. */
export const requestStatusMessage = (
  overrides: Partial<RequestStatusMessage> = {},
): RequestStatusMessage => ({
  version: 1,
  kind: 'request_status',
  tenant_id: 't1',
  platform: 'google_ads',
  batch_id: 'b1',
  checks: 0,
  ...overrides,
});
