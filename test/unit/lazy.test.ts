import { lazy } from '../../functions/shared/platform/lazy';

describe('lazy', () => {
  it('makes nothing until first asked, then the same value every time', () => {
    let made = 0;
    const value = lazy(() => ({ n: ++made }));
    expect(made).toBe(0);
    const first = value();
    expect(value()).toBe(first);
    expect(made).toBe(1);
  });

  it('keeps a value that is undefined or false without making it again', () => {
    let made = 0;
    const value = lazy(() => {
      made += 1;
      return undefined;
    });
    value();
    value();
    expect(made).toBe(1);
  });
});
