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
} as const;
