/**
 * Who made a call: the row's `actor` (DESIGN.md: the role for a role session, the user, the service), the
 * userIdentity details every row carries, the person behind them (`whoOf`), and the other way round, which
 * `actor` keys an ARN a user copied from CloudTrail can be filed under (`actorQueryOf`).
 */
import { asObject, str } from '../json.js';
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

/** The row attributes `whoOf` reads: those actorOf writes. */
export type WhoInput = Pick<AuditRow, 'actor' | 'actorType' | 'principalArn' | 'principalId' | 'userName' | 'invokedBy'>;

/**
 * The person (or service) behind a call, as an operator names them:
 * - a role session: the session name; for IAM Identity Center that is the user's sign-in
 *   (`arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_Admin_0123/alice@corp.example` gives `alice@corp.example`);
 * - an IAM user: the user name; a federated user (GetFederationToken): the name it was given;
 * - the account's root user: `root`;
 * - an AWS service: the service (`invokedBy`, e.g. `ses.amazonaws.com`);
 * - another account (`AWSAccount`): the session name when its principalId has one, else the principalId;
 * - anything else: the user name, else the actor.
 */
export function whoOf(info: WhoInput): string {
  switch (info.actorType) {
    case 'AssumedRole':
      return sessionName(info.principalArn) ?? afterColon(info.principalId) ?? info.actor;
    case 'IAMUser':
      return info.userName ?? lastSegment(info.principalArn) ?? info.actor;
    case 'FederatedUser':
      return federatedName(info.principalArn) ?? afterColon(info.principalId) ?? info.actor;
    case 'Root':
      return 'root';
    case 'AWSService':
      return info.invokedBy ?? info.actor;
    case 'AWSAccount':
      return afterColon(info.principalId) ?? info.principalId ?? info.actor;
    default:
      return info.userName ?? info.actor;
  }
}

function afterColon(principalId: string | undefined): string | undefined {
  const i = principalId?.indexOf(':') ?? -1;
  return principalId !== undefined && i >= 0 && i < principalId.length - 1 ? principalId.slice(i + 1) : undefined;
}

function lastSegment(arn: string | undefined): string | undefined {
  const name = arn?.slice(arn.lastIndexOf('/') + 1);
  return name || undefined;
}

function federatedName(arn: string | undefined): string | undefined {
  const m = arn && /:federated-user\/(.+)$/.exec(arn);
  return m ? m[1] : undefined;
}

/**
 * Where IAM Identity Center puts the roles of its permission sets (their names start `AWSReservedSSO_`):
 * `aws-reserved/sso.amazonaws.com/`, and for newer instances that folder plus the instance's region
 * (`.../sso.amazonaws.com/us-west-2/`, as in real records).
 */
export const IDENTITY_CENTER_ROLE_PATH = 'aws-reserved/sso.amazonaws.com/';

/** Regions an IAM Identity Center instance may live in, by partition (for the role paths above). */
const REGIONS: Readonly<Record<string, readonly string[]>> = {
  aws: [
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-1',
    'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
    'ap-southeast-6', 'ap-southeast-7', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ca-central-1',
    'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2',
    'eu-north-1', 'il-central-1', 'me-south-1', 'me-central-1', 'mx-central-1', 'sa-east-1',
  ],
  'aws-us-gov': ['us-gov-west-1', 'us-gov-east-1'],
  'aws-cn': ['cn-north-1', 'cn-northwest-1'],
};

/**
 * How to find an ARN's rows by the `actor` key (index byActor): the candidate actor values, most likely
 * first, and for an assumed-role session the session ARN to narrow to (rows of that role whose
 * `principalArn` is that session).
 *
 * A session ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) names the role without its IAM path, while
 * `actor` is the role ARN with its path (`sessionContext.sessionIssuer.arn`). Role names are unique in an
 * account whatever their path, so the candidates are the role without a path and, for IAM Identity Center
 * roles, with each path Identity Center gives them; a role with another path is found by its role ARN (or
 * within an IDENTITY, where the session ARN alone filters). A role ARN given without a path gets the same
 * candidates. Every other ARN (a user with its path, root, a federated user) or service name is an actor
 * value as it is.
 */
export function actorQueryOf(arn: string): { actors: string[]; principalArn?: string } {
  const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (session) {
    const [, partition, account, role] = session;
    return { actors: roleCandidates(partition, account, role), principalArn: arn };
  }
  const role = /^arn:([\w-]+):iam::(\d{12}):role\/([^/]+)$/.exec(arn);
  if (role) {
    const [, partition, account, name] = role;
    return { actors: roleCandidates(partition, account, name) };
  }
  return { actors: [arn] };
}

function roleCandidates(partition: string, account: string, role: string): string[] {
  const base = `arn:${partition}:iam::${account}:role/`;
  const plain = `${base}${role}`;
  if (!role.startsWith('AWSReservedSSO_')) return [plain];
  const reserved = `${base}${IDENTITY_CENTER_ROLE_PATH}`;
  return [`${reserved}${role}`, ...(REGIONS[partition] ?? []).map((region) => `${reserved}${region}/${role}`), plain];
}
