/**
 * From verified webhook payloads (parsed JSON) to the lead to capture and the order it placed;
 * pure, no I/O. Every extractor answers an {@link Extraction} for any input and never throws.
 */
export { type Attribution, attributionFrom } from './attribution';
export { extractGhl } from './ghl';
export { extractShopify } from './shopify';
export type { Extraction, OrderFacts } from './types';
export { extractWooCommerce } from './woocommerce';
