/**
 * Acknowledging cdk-nag findings with CDK's own Validations API, so the construct needs no cdk-nag at run
 * time: the app and the tests run the checks, and they read these acknowledgements.
 */
import { Validations } from 'aws-cdk-lib/core';
import type { IConstruct } from 'constructs';

/**
 * Acknowledge one cdk-nag finding, with its reason. cdk-nag itself reads the plain rule ID. CDK records IDs
 * with spaces turned into dashes, which cdk-nag 3.0.2 then no longer matches (a key prefix may contain
 * spaces), so such an ID is also recorded under the plugin's namespace, which CDK's own report filtering
 * matches after the same normalization.
 */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
  if (id.includes(' ')) Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}

/**
 * A resolved CloudFormation value as cdk-nag names it in a finding ID (`Resource::...`): strings as they are,
 * `Fn::Join` joined, `Ref` as `<Name>`, `Fn::GetAtt` as `<Resource.Attribute>`. Written after cdk-nag's
 * documented suppression format; infra.nag.test.ts checks it against cdk-nag's own.
 */
export function nagResourceName(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const v: Record<string, unknown> = { ...value };
    const join = v['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return join[1].map(nagResourceName).join(join[0]);
    }
    if ('Fn::Sub' in v) return nagResourceName(v['Fn::Sub']);
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt.length === 2) return `<${nagResourceName(getAtt[0])}.${nagResourceName(getAtt[1])}>`;
    if ('Fn::ImportValue' in v) return nagResourceName(v['Fn::ImportValue']);
    if ('Ref' in v) return `<${nagResourceName(v.Ref)}>`;
  }
  return JSON.stringify(value);
}
