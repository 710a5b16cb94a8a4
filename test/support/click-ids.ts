/** Click ids shaped like real ones (lengths and prefixes seen in the wild). */
const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function filler(length: number, seed: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += base64url[(seed * 31 + i * 17) % base64url.length];
  return out;
}

export const gclid = (seed = 1) => `Cj0KCQiA${filler(84, seed)}`; // 92 characters
export const gbraid = (seed = 1) => `0AAAAA${filler(28, seed)}`; // 34 characters
export const wbraid = (seed = 1) => `Cl${filler(118, seed)}`; // 120 characters
export const fbclid = (seed = 1) => `IwAR${filler(56, seed)}`;
