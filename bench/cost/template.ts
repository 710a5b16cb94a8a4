import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Stage } from '../../contract/stages';
import { AdsEngineerStack } from '../../infra/stack';
import { type CfnTemplate, type FixedResources, fixedFromTemplate } from './fixed';

/**
 * The CloudFormation template `cdk synth -c stage=<stage>` produces, without bundling the
 * functions (their code does not change what the stack costs). A few seconds, no AWS access.
 */
export function synthesizedTemplate(stage: Stage): CfnTemplate {
  const app = new App({ context: { ...featureFlags(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new AdsEngineerStack(app, `AdsEngineer-${stage}`, {
    env: { account: '123456789012', region: 'us-east-1' },
    stage,
  });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

/** The feature flags of cdk.json, so the template is the one `cdk synth` writes. */
function featureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const { stage: _stage, ...flags } = cdkJson.context ?? {};
  return flags;
}

/**
 * The fixed resources of each stage, from its synthesized template: each stage synthesized once,
 * `announce` told before (synthesis takes a few seconds).
 */
export function synthesizingFixedOf(
  announce: (stage: Stage) => void = () => {},
): (stage: Stage) => FixedResources {
  const known = new Map<Stage, FixedResources>();
  return (stage) => {
    const cached = known.get(stage);
    if (cached) return cached;
    announce(stage);
    const fixed = fixedFromTemplate(synthesizedTemplate(stage));
    known.set(stage, fixed);
    return fixed;
  };
}
