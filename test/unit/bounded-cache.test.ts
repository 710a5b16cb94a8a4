import { BoundedCache } from '../../functions/shared/platform/cache';

describe('BoundedCache', () => {
  it('forgets entries once they are as old as the bound', () => {
    let now = 1_000;
    const cache = new BoundedCache<string, number>(10, 500, () => now);
    cache.set('a', 1);
    now = 1_499;
    expect(cache.get('a')).toBe(1);
    now = 1_500;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new BoundedCache<string, number>(2, 60_000);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
    for (let i = 0; i < 1_000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('refuses a bound below one entry', () => {
    expect(() => new BoundedCache(0, 1)).toThrow('maxEntries');
  });
});
