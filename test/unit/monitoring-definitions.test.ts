import { AWS_METRICS, allQueries, DASHBOARD_ROWS } from '../../contract/dashboard';
import { EMITTED_METRICS } from '../../contract/metrics';
import {
  AVAILABILITY_SLO,
  alarmDescription,
  anchorOf,
  BURN_RATE_WINDOWS,
  budgetConsumed,
  burnRateThreshold,
  LATENCY_SLO,
  parseAlarmDescription,
} from '../../contract/monitoring';

describe('burn-rate alerting (Google SRE workbook, multiwindow multi-burn-rate)', () => {
  it('uses the workbook windows and factors: 1 h/5 min at 14.4 and 6 h/30 min at 6 page, 3 d/6 h at 1 warns', () => {
    expect(BURN_RATE_WINDOWS.map((w) => [w.longMinutes, w.shortMinutes, w.factor, w.severity])).toEqual([
      [60, 5, 14.4, 'critical'],
      [360, 30, 6, 'critical'],
      [4320, 360, 1, 'warning'],
    ]);
  });

  it('spends 2 %, 5 % and 10 % of a 30-day budget when each alert fires', () => {
    expect(BURN_RATE_WINDOWS.map((w) => Number(budgetConsumed(w).toFixed(4)))).toEqual([0.02, 0.05, 0.1]);
  });

  it('keeps every short window a twelfth of its long one', () => {
    for (const w of BURN_RATE_WINDOWS) expect(w.longMinutes / w.shortMinutes).toBe(12);
  });

  it('turns factor and objective into the bad-event ratio the alarms compare to', () => {
    expect(burnRateThreshold(AVAILABILITY_SLO.objective, 14.4)).toBeCloseTo(0.0144, 10);
    expect(burnRateThreshold(AVAILABILITY_SLO.objective, 6)).toBeCloseTo(0.006, 10);
    expect(burnRateThreshold(AVAILABILITY_SLO.objective, 1)).toBeCloseTo(0.001, 10);
    expect(burnRateThreshold(LATENCY_SLO.objective, 14.4)).toBeCloseTo(0.72, 10);
  });

  it('fits CloudWatch alarm limits: periods of multiples of 60 s, at most 1 day under an hour, 7 days above', () => {
    for (const w of BURN_RATE_WINDOWS) {
      for (const minutes of [w.longMinutes, w.shortMinutes]) {
        expect(minutes * 60).toBeLessThanOrEqual(minutes < 60 ? 86_400 : 604_800);
      }
    }
  });
});

describe('alarm descriptions', () => {
  it('carry severity and runbook link, and read back', () => {
    const text = alarmDescription(
      'critical',
      'Messages in the webhooks dead-letter queue.',
      'docs/runbook.md#dead-letters',
    );
    expect(text).toBe(
      '[critical] Messages in the webhooks dead-letter queue. Runbook: docs/runbook.md#dead-letters',
    );
    expect(parseAlarmDescription(text)).toEqual({
      severity: 'critical',
      runbook: 'docs/runbook.md#dead-letters',
    });
    expect(parseAlarmDescription('made by hand')).toEqual({});
    expect(parseAlarmDescription(undefined)).toEqual({});
  });

  it('derive anchors from alarm ids', () => {
    expect(anchorOf('DlqWebhooks')).toBe('dlq-webhooks');
    expect(anchorOf('MetricRateLimitStoreError')).toBe('metric-rate-limit-store-error');
    expect(anchorOf('BackupScheduleFailed')).toBe('backup-schedule-failed');
  });
});

describe('dashboard definitions', () => {
  it('name only metrics some function emits or AWS publishes', () => {
    const emitted = new Set(EMITTED_METRICS.map((m) => m.name));
    for (const query of allQueries()) {
      if (query.source === 'app') expect(emitted).toContain(query.metric);
      if (query.source === 'aws') {
        const published = AWS_METRICS[query.namespace];
        expect(published.metrics as readonly string[]).toContain(query.metric);
        expect(query.resource.kind === 'dlq' ? 'queue' : query.resource.kind).toBe(published.resource);
      }
    }
  });

  it('give every query a unique id within its panel, and expressions refer only to them', () => {
    for (const row of DASHBOARD_ROWS) {
      for (const panel of row.panels) {
        const ids = panel.queries.map((q) => q.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const q of panel.queries) {
          if (q.source !== 'expression') continue;
          for (const ref of q.expression.match(/[a-z][a-z0-9_]*/g) ?? []) expect(ids).toContain(ref);
        }
      }
    }
  });
});
