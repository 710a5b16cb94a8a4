import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AWS_METRICS } from '../../contract/dashboard';
import { EMITTED_METRICS, METRIC_NAMESPACE } from '../../contract/metrics';
import { FUNCTIONS, QUEUES, TABLES } from '../../contract/resources';
import { GRAFANA_RESOURCES, grafanaDashboard, grafanaDashboardText } from '../../ops/grafana';

interface Target {
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  expression?: string;
  id: string;
}
interface GrafanaPanel {
  type: string;
  title: string;
  targets?: Target[];
  gridPos: { w: number; x: number };
}

const dashboard = grafanaDashboard() as {
  panels: GrafanaPanel[];
  templating: { list: { name: string; regex?: string }[] };
};
const targets = dashboard.panels.flatMap((p) => p.targets ?? []);

describe('the Grafana dashboard', () => {
  it('is the committed docs/grafana/adsengineer.json (regenerate with `npm run ops -- dashboards grafana --out ...`)', () => {
    const committed = readFileSync(
      path.resolve(__dirname, '..', '..', 'docs', 'grafana', 'adsengineer.json'),
      'utf8',
    );
    expect(committed).toBe(grafanaDashboardText());
  });

  it('names only metrics some function emits or AWS publishes', () => {
    const emitted = new Set<string>(EMITTED_METRICS.map((m) => m.name));
    for (const t of targets) {
      if (t.expression) continue;
      if (t.namespace === METRIC_NAMESPACE) expect(emitted).toContain(t.metricName);
      else {
        const published = AWS_METRICS[t.namespace as keyof typeof AWS_METRICS];
        expect({ namespace: t.namespace, known: Boolean(published) }).toEqual({
          namespace: t.namespace,
          known: true,
        });
        expect(published.metrics as readonly string[]).toContain(t.metricName);
      }
    }
  });

  it('has a variable for every function, queue, dead-letter queue and table, and panels that use them', () => {
    const names = dashboard.templating.list.map((v) => v.name);
    const used = JSON.stringify(targets);
    for (const name of [
      ...GRAFANA_RESOURCES.functions,
      ...GRAFANA_RESOURCES.queues,
      ...GRAFANA_RESOURCES.tables,
    ]) {
      expect(names).toContain(name);
      expect(used).toContain(`$${name}`);
    }
    expect(GRAFANA_RESOURCES.functions).toHaveLength(FUNCTIONS.length);
    expect(GRAFANA_RESOURCES.queues).toHaveLength(QUEUES.length * 2);
    expect(GRAFANA_RESOURCES.tables).toHaveLength(TABLES.length);
  });

  it('finds physical names by the construct path CloudFormation puts in them, not by a neighbour', () => {
    const regex = (name: string) => {
      const source = dashboard.templating.list.find((v) => v.name === name)?.regex ?? '';
      return new RegExp(source.slice(1, -1).replace('$stage', 'prod'));
    };
    expect(regex('fn_api').test('AdsEngineer-prod-FunctionsApi45DE0CE2-Ab12Cd34')).toBe(true);
    expect(regex('fn_api').test('AdsEngineer-prod-FunctionsAdmin5CE67C9F-Ab12Cd34')).toBe(false);
    expect(regex('queue_webhooks').test('AdsEngineer-prod-QueuesWebhooks8AF7EEBD-x1')).toBe(true);
    expect(regex('queue_webhooks').test('AdsEngineer-prod-QueuesWebhooksDlq542C344F-x1')).toBe(false);
    expect(regex('dlq_webhooks').test('AdsEngineer-prod-QueuesWebhooksDlq542C344F-x1')).toBe(true);
    expect(regex('table_leads').test('AdsEngineer-staging-DataLeads62869C3B-1')).toBe(false);
  });

  it('has the same panels as the CloudWatch dashboard definitions, laid out within 24 columns', () => {
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title);
    expect(titles).toContain('Error budget left (availability 99.9 %, 30 days)');
    expect(titles).toContain('Dead letters');
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    for (const t of targets)
      if (t.dimensions) expect(Object.keys(t.dimensions).join()).not.toMatch(/tenant|email/i);
  });
});
