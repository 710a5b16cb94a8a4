import { createHash } from 'node:crypto';

/**
 * SHA-256 of a text in lowercase hex, computed here rather than by the code under test: the tests
 * write the hashed identifiers Google and Meta expect as `sha(<the normalised value>)`.
 */
export const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
