import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAlarmDescription } from '../../contract/monitoring';
import { resources, synthesize } from './build';

const RUNBOOK = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'runbook.md'), 'utf8');

/** The runbook's sections by anchor: the text from `<a id="...">` to the next one. */
function sections(markdown: string): Map<string, string> {
  const found = new Map<string, string>();
  const parts = markdown.split(/<a id="([a-z0-9-]+)"><\/a>/);
  for (let i = 1; i < parts.length; i += 2) found.set(parts[i] as string, parts[i + 1] ?? '');
  return found;
}

describe('docs/runbook.md', () => {
  // Every optional feature on, so every alarm the stack can have is synthesized.
  const { stack, template } = synthesize('prod', {
    pagerDutyUrl: 'https://events.pagerduty.com/integration/x/enqueue',
    slackWorkspaceId: 'T0123ABCD',
    slackChannelId: 'C0456EFGH',
  });
  const alarms = Object.values({
    ...resources(template, 'AWS::CloudWatch::Alarm'),
    ...resources(template, 'AWS::CloudWatch::CompositeAlarm'),
  });
  const bySection = sections(RUNBOOK);

  test('the stack has alarms to check', () => {
    expect(alarms.length).toBeGreaterThan(40);
  });

  test('every synthesized alarm links a runbook section that exists and names it', () => {
    const missing: string[] = [];
    for (const alarm of alarms) {
      const name = String(alarm.Properties?.AlarmName);
      // A burn-rate window alarm is named in the section of the alert it feeds.
      const id = name.replace(`${stack.stackName}-`, '').replace(/^(Slo\w+?)(Long|Short)$/, '$1');
      const { runbook } = parseAlarmDescription(String(alarm.Properties?.AlarmDescription));
      const anchor = runbook?.split('#')[1] ?? '';
      const section = bySection.get(anchor);
      if (
        !runbook?.startsWith('docs/runbook.md#') ||
        section === undefined ||
        !section.includes(`\`${id}\``)
      ) {
        missing.push(`${name} -> ${runbook ?? '(no runbook link)'}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('every section says what it means, and links resolve within the file', () => {
    for (const [anchor, text] of bySection) {
      expect({ anchor, means: text.includes('**What it means.**') }).toEqual({ anchor, means: true });
    }
    for (const [, target] of RUNBOOK.matchAll(/\]\(#([a-z0-9-]+)\)/g))
      expect(bySection.has(target as string)).toBe(true);
  });
});
