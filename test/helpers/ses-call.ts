/**
 * One SES API call as CloudTrail logs it, by the IAM user carol of ACCOUNT, for the rule tests (identity,
 * findings, rows). `extra` adds or replaces top-level fields; `userIdentity` adds or replaces the caller's.
 */
import type { CloudTrailRecord } from '../../src/ses/record.js';

export const ACCOUNT = '111122223333';

export function sesCall(
  eventName: string,
  requestParameters: unknown,
  extra: Record<string, unknown> = {},
  userIdentity: Record<string, unknown> = {},
): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLE',
      arn: `arn:aws:iam::${ACCOUNT}:user/carol`,
      accountId: ACCOUNT,
      userName: 'carol',
      ...userIdentity,
    },
    eventTime: '2026-11-20T10:15:30Z',
    eventSource: 'ses.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.7',
    userAgent: 'aws-cli/2.22.0',
    requestParameters,
    responseElements: null,
    requestID: 'req-1',
    eventID: 'evt-1',
    eventType: 'AwsApiCall',
    recipientAccountId: ACCOUNT,
    ...extra,
  };
}
