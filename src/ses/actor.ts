/** Who made a call (DESIGN.md, `actor`), and the userIdentity details every row carries. */
import { asObject, str } from './identity.js';
import type { AuditRow } from './row.js';

/** The row attributes that come from `userIdentity`. */
export type ActorInfo = Pick<
  AuditRow,
  'actor' | 'actorType' | 'principalArn' | 'principalId' | 'accessKeyId' | 'userName' | 'sessionIssuerArn' | 'invokedBy' | 'mfaAuthenticated'
>;

export function actorOf(userIdentity: unknown): ActorInfo {
  const ui = asObject(userIdentity);
  if (!ui) return { actor: 'unknown' };
  const type = str(ui.type);
  const session = asObject(ui.sessionContext);
  const issuer = asObject(session?.sessionIssuer);
  const attributes = asObject(session?.attributes);
  const arn = str(ui.arn);
  const principalId = str(ui.principalId);
  const invokedBy = str(ui.invokedBy);
  const sessionIssuerArn = str(issuer?.arn);

  let actor: string | undefined;
  switch (type) {
    case 'AssumedRole':
      actor = sessionIssuerArn ?? arn;
      break;
    case 'IAMUser':
    case 'Root':
    case 'FederatedUser':
      actor = arn;
      break;
    case 'AWSService':
      actor = invokedBy;
      break;
  }
  actor ??= principalId ?? 'unknown';

  const mfa = attributes?.mfaAuthenticated;
  return {
    actor,
    actorType: type,
    principalArn: arn,
    principalId,
    accessKeyId: str(ui.accessKeyId),
    // For a role session the CloudTrail console shows the session name as the user name.
    userName: str(ui.userName) ?? (type === 'AssumedRole' ? sessionName(arn) : undefined),
    sessionIssuerArn,
    invokedBy,
    mfaAuthenticated: mfa === 'true' || mfa === true ? true : mfa === 'false' || mfa === false ? false : undefined,
  };
}

function sessionName(arn: string | undefined): string | undefined {
  const m = arn && /:assumed-role\/[^/]+\/(.+)$/.exec(arn);
  return m ? m[1] : undefined;
}
