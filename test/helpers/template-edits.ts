import type { LogicalRef, SynthesizedPlatform } from '../../local/iam/synthesized-platform';

type Statement = { Action: string | string[]; Resource?: unknown; Condition?: unknown; Effect: string };

/**
 * The templates with the statements of `role`'s policies that `matches` picks removed, as a
 * deployment whose role lacked them would be. Fails when nothing matches, so a test cannot pass
 * by removing nothing.
 */
export function withoutRoleStatements(
  synthesized: SynthesizedPlatform,
  role: LogicalRef,
  matches: (statement: Statement) => boolean,
): SynthesizedPlatform {
  const copy = structuredClone(synthesized) as SynthesizedPlatform;
  let removed = 0;
  for (const resource of Object.values(copy.templates[role.stack].Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const props = resource.Properties as {
      Roles: { Ref: string }[];
      PolicyDocument: { Statement: Statement[] };
    };
    if (!props.Roles.some((r) => r.Ref === role.logicalId)) continue;
    const kept = props.PolicyDocument.Statement.filter((s) => !matches(s));
    removed += props.PolicyDocument.Statement.length - kept.length;
    props.PolicyDocument.Statement = kept;
  }
  if (removed === 0) throw new Error(`no statement of ${role.logicalId} matched`);
  return copy;
}

/** The templates without the resources of `stack` that `matches` picks. */
export function withoutResources(
  synthesized: SynthesizedPlatform,
  stack: string,
  matches: (resource: { Type: string; Properties?: Record<string, unknown> }) => boolean,
): SynthesizedPlatform {
  const copy = structuredClone(synthesized) as SynthesizedPlatform;
  const resources = copy.templates[stack].Resources;
  const removed = Object.keys(resources).filter((id) => matches(resources[id]));
  if (removed.length === 0) throw new Error(`no resource of ${stack} matched`);
  for (const id of removed) delete resources[id];
  return copy;
}

/** Whether a statement grants `action`. */
export function grants(statement: Statement, action: string): boolean {
  return [statement.Action].flat().includes(action);
}
