/** Finding severities, highest first (DESIGN.md, Findings). */
export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The kind of partition key a row is filed under (DESIGN.md, "Which identity a record belongs to"). */
export type IdentityKind = 'email' | 'domain' | 'resource' | 'account';

/**
 * One audit row: one SES event as seen from one identity. Attribute names are the DESIGN.md contract;
 * optional attributes are absent (not null) when the record lacks them.
 */
export interface AuditRow {
  identity: string;
  eventKey: string;
  actor: string;
  eventName: string;
  identityKind: IdentityKind;
  identities: string[];
  eventTime: string;
  eventID: string;
  eventSource: string;
  eventCategory?: string;
  readOnly?: boolean;
  errorCode?: string;
  errorMessage?: string;
  awsRegion?: string;
  accountId?: string;
  actorType?: string;
  principalArn?: string;
  principalId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionIssuerArn?: string;
  invokedBy?: string;
  mfaAuthenticated?: boolean;
  sourceIPAddress?: string;
  userAgent?: string;
  requestID?: string;
  /** As logged (an object); the store turns it into JSON text when DynamoDB cannot hold it as a map. */
  requestParameters?: unknown;
  responseElements?: unknown;
  additionalEventData?: unknown;
  sourceObject: string;
  ingestedAt: string;
  /** Finding ids (DESIGN.md, Findings; src/ses/findings.ts), sorted; only when a rule matched. */
  findings?: string[];
  /** The highest severity of `findings`; only with findings (the sparse index bySeverity). */
  severity?: Severity;
  /** Epoch seconds; only when a retention period is set. */
  expiresAt?: number;
}
