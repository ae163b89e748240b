/**
 * The package's CDK entry, `ses-audit/cdk`: `new SesAudit(scope, id, props)` inside any stack of any CDK app.
 */
export {
  ALERT_DETAIL_TYPE,
  ALERT_EVENT_SOURCE,
  SES_DATA_EVENT_RESOURCE_TYPES,
  SesAudit,
  type SesAuditProps,
} from './construct.js';
export { SettingsError, type AlertSeverity, type SesAuditSettings, type Trigger } from './settings.js';
export { heapOptions } from './sizing.js';
