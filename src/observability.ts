/** Names shared by the function's EMF metrics and the CDK alarms that watch them. */
export const SERVICE_NAME = 'ses-audit';
export const METRIC_NAMESPACE = 'SesAudit';

export const METRICS = {
  filesProcessed: 'FilesProcessed',
  filesSkipped: 'FilesSkipped',
  recordsRead: 'RecordsRead',
  sesEvents: 'SesEvents',
  rowsWritten: 'RowsWritten',
  writeRetries: 'WriteRetries',
  failures: 'Failures',
  deliveryLagSeconds: 'DeliveryLagSeconds',
  /** Findings at or above ALERT_SEVERITY published to EventBridge. */
  alertsPublished: 'AlertsPublished',
  /** Digest files whose signature and content checked out. */
  digestsVerified: 'DigestsVerified',
  /** Digest files that failed verification (bad signature, unknown key, malformed). */
  digestsInvalid: 'DigestsInvalid',
  /** Valid digests whose previous digest is absent, invalid or does not match. */
  digestChainGaps: 'DigestChainGaps',
  /** Log files a valid digest lists that were never ingested (past the grace period). */
  filesMissing: 'FilesMissing',
  /** Ingested log files no valid digest lists (past the grace period). */
  filesUnattested: 'FilesUnattested',
  /** Ingested log files whose content hash differs from their digest's. */
  filesTampered: 'FilesTampered',
} as const;
