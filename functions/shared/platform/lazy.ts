/**
 * A value made on its first use and kept for the life of the process (a Lambda's execution
 * environment): building a module does no I/O and reads no setting.
 */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
