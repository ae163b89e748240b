/**
 * The default stack: the `SesAudit` construct, alone in a stack. `npm run synth` (infra/app.ts) builds it from
 * CDK context settings.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SesAudit, type SesAuditProps } from './construct.js';
import type { SettingsInput } from './settings.js';

export interface SesAuditStackProps extends StackProps {
  settings?: SettingsInput;
  /** Directory holding handler.mjs (default: dist/). Tests point this at a stub. */
  codeDirectory?: SesAuditProps['codeDirectory'];
}

export class SesAuditStack extends Stack {
  readonly audit: SesAudit;

  constructor(scope: Construct, id: string, props: SesAuditStackProps = {}) {
    super(scope, id, props);
    const { stackName: _appOnly, ...settings } = props.settings ?? {};
    // The id "Default" leaves the construct out of the logical IDs (CDK's rule for a scope's default child), so
    // the resources keep the IDs they had when the stack held them directly: an update replaces nothing.
    this.audit = new SesAudit(this, 'Default', { ...settings, codeDirectory: props.codeDirectory });
  }
}
