/**
 * The parts of a CloudTrail record this product reads. Records come from JSON, so every field is checked
 * before use: nothing here is trusted to have the type CloudTrail documents.
 */
export interface CloudTrailRecord {
  eventTime?: unknown;
  eventID?: unknown;
  eventSource?: unknown;
  eventName?: unknown;
  eventCategory?: unknown;
  readOnly?: unknown;
  errorCode?: unknown;
  errorMessage?: unknown;
  awsRegion?: unknown;
  recipientAccountId?: unknown;
  userIdentity?: unknown;
  sourceIPAddress?: unknown;
  userAgent?: unknown;
  requestID?: unknown;
  requestParameters?: unknown;
  responseElements?: unknown;
  additionalEventData?: unknown;
  resources?: unknown;
  [other: string]: unknown;
}

export const SES_EVENT_SOURCE = 'ses.amazonaws.com';
