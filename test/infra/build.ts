import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { FunctionId } from '../../contract/resources';
import type { Stage } from '../../contract/stages';
import { AdsEngineerStack, type AdsEngineerStackProps } from '../../infra/stack';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` synthesizes. */
function cdkJsonContext(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('context' in parsed)) return {};
  const context = parsed.context;
  if (typeof context !== 'object' || context === null) return {};
  const { stage: _stage, ...flags } = context as Record<string, unknown>;
  return flags;
}

export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

export interface Built {
  readonly app: App;
  readonly stack: AdsEngineerStack;
}

export interface BuildOptions {
  /**
   * Bundle the functions with esbuild (about half a second each). Off, the stack is the same but
   * its code assets are placeholders: files that only assert on resources skip the bundling.
   */
  readonly bundle?: boolean;
}

/** A fresh app and stack for the stage. */
export function buildStack(
  stage: Stage,
  props: Partial<AdsEngineerStackProps> = {},
  options: BuildOptions = {},
): Built {
  const context = { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) };
  const app = new App({ context });
  const stack = new AdsEngineerStack(app, `AdsEngineer-${stage}`, { env: TEST_ENV, ...props, stage });
  return { app, stack };
}

export function synthesize(
  stage: Stage,
  props: Partial<AdsEngineerStackProps> = {},
  options: BuildOptions = {},
) {
  const built = buildStack(stage, props, options);
  return { ...built, template: Template.fromStack(built.stack) };
}

/** The CloudFormation logical id of an L2 construct's main resource. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error(`${construct.node.path} has no default child`);
  return stack.getLogicalId(child as CfnElement);
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly DeletionPolicy?: string;
}

export function resources(template: Template, type?: string): Record<string, CfnResource> {
  const all = template.toJSON().Resources as Record<string, CfnResource>;
  if (!type) return all;
  return Object.fromEntries(Object.entries(all).filter(([, resource]) => resource.Type === type));
}

export function resource(template: Template, id: string): CfnResource {
  const found = resources(template)[id];
  if (!found) throw new Error(`No resource ${id} in the template`);
  return found;
}

export function properties(template: Template, id: string): Record<string, Json> {
  return resource(template, id).Properties ?? {};
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: Json;
  readonly Condition?: Json;
}

/** The statements of a policy document. */
export function statementsOf(document: Json | undefined): Statement[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return [];
  return asArray(document.Statement as unknown as Statement | Statement[] | undefined);
}

/** The statements of the IAM policies (AWS::IAM::Policy) attached to a function's role. */
export function rolePolicyStatements(
  built: { stack: AdsEngineerStack; template: Template },
  id: FunctionId,
): Statement[] {
  const roleId = logicalId(built.stack, built.stack.functions.functions.get(id).role);
  return Object.values(resources(built.template, 'AWS::IAM::Policy'))
    .filter((policy) =>
      asArray(policy.Properties?.Roles).some((ref) => (ref as { Ref?: string }).Ref === roleId),
    )
    .flatMap((policy) => statementsOf(policy.Properties?.PolicyDocument));
}

/** Logical ids a value refers to through Ref or Fn::GetAtt, at any depth. */
export function referencedIds(value: Json | undefined, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) into.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner) && typeof inner[0] === 'string')
        into.add(inner[0]);
      else referencedIds(inner, into);
    }
  }
  return into;
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export interface BuiltStage {
  readonly stack: AdsEngineerStack;
  readonly template: Template;
}

/**
 * Synthesizes each stage once, before the file's tests, and returns the lookup for them.
 * Call at the top level of a test file.
 */
export function stagesBuiltOnce(stages: readonly Stage[]): (stage: Stage) => BuiltStage {
  const built = new Map<Stage, BuiltStage>();
  beforeAll(() => {
    for (const stage of stages) built.set(stage, synthesize(stage));
  });
  return (stage) => {
    const found = built.get(stage);
    if (!found) throw new Error(`stack ${stage} was not built`);
    return found;
  };
}
