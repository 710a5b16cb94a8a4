/**
 * Cursors a client might craft for a paginated route: the unsigned key shapes the first cursor
 * format accepted (an incomplete key reached DynamoDB and answered 500), keys of other tenants and
 * partitions, a real cursor with its payload or tag altered, and text that is not a cursor at all.
 * Every one must answer 400 `validation_failed` naming `cursor`.
 */
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export function craftedCursors(tenantId: string, issued: readonly string[] = []): string[] {
  const own = `TENANT#${tenantId}`;
  const unsigned = [
    { pk: own },
    { pk: own, sk: 'LEAD#lead_0' },
    { gsi1pk: own },
    { gsi2pk: `${own}#STATUS#new`, pk: own },
    { pk: 'TENANT#ten_other', sk: 'META' },
    { gsi1pk: 'TENANTS', pk: own },
    { pk: 'BACKUPS', sk: 'x' },
    { pk: { S: own } },
    { pk: own, sk: 1e308 },
    [own],
    null,
  ].map(b64);
  const altered = issued.flatMap((cursor) => {
    const [payload = '', tag = ''] = cursor.split('.');
    const flipped = `${tag.slice(0, -1)}${tag.endsWith('A') ? 'B' : 'A'}`;
    return [
      `${b64({ pk: own })}.${tag}`,
      `${payload}.${flipped}`,
      `${payload}.`,
      payload,
      `${payload}.${tag}.${tag}`,
      `${payload}x.${tag}`,
    ];
  });
  return [
    ...unsigned,
    ...altered,
    'x',
    '.',
    '%00',
    '\u0000',
    'e30',
    'e30.e30',
    `${'A'.repeat(3000)}.${'A'.repeat(43)}`,
    '<script>cursor</script>',
  ];
}
