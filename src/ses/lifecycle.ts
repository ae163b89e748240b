/**
 * An identity's life and state as its audit rows tell it: `ses-audit show`. The JSON form of the model is a
 * stable contract, documented field by field in docs/show.md.
 *
 * Pure and total: the rows come from the table, in any order, possibly repeated, and their attributes are
 * read as untrusted (a row read back from DynamoDB has whatever types the item holds); nothing here throws.
 *
 * Decisions (the reasons are in docs/show.md):
 * - An SES identity is regional and belongs to one account, so the state is worked out per location
 *   (`recipientAccountId`, `awsRegion`); the top-level fields describe the location changed last, and
 *   `locations` holds every one.
 * - Only calls that succeeded change state; read-only calls change nothing; denied calls are listed apart.
 * - Events are ordered by `eventKey` (time, then event ID): CloudTrail logs whole seconds, so two calls in
 *   the same second keep a stable but arbitrary order.
 * - A life runs from a creation to the first deletion after it; a creation after a deletion starts a new
 *   life. Settings are the last changes of the current life: deleting an identity removes its settings and
 *   its policies with it, so older changes no longer describe it.
 */
import { whoOf } from './actor.js';
import { jsonText } from '../json-text.js';
import { CREATE_IDENTITY, DELETE_IDENTITY, DELETE_POLICY, DENIED, PUT_POLICY } from './findings.js';
import { asObject, str } from '../json.js';
import { diffPolicies, parsePolicy, type PolicyDiff, type PolicyGrants, type PolicyPrincipal } from './policy.js';
import type { AuditRow, IdentityKind } from './row.js';

export type IdentityState = 'exists' | 'deleted' | 'unknown';

/** One call, as the row shows it. */
export interface EventRef {
  /** `eventTime` as logged. */
  time: string;
  /** The row's `actor` (the role ARN for a role session). */
  actor: string;
  /** The person: the session name of a role session, an IAM user's name, a service, `root`. */
  who: string;
  eventName: string;
  /** With the identity, the row's key in the table. */
  eventKey: string;
}

export interface LifecycleEvent extends EventRef {
  action: 'created' | 'deleted';
}

/** DKIM signing switched on or off; `enabled` is null when the logged value is not a boolean. */
export interface DkimSetting extends EventRef {
  enabled: boolean | null;
}

/** Where the DKIM keys come from: `AWS_SES` (Easy DKIM) or `EXTERNAL` (bring your own). */
export interface DkimKeysSetting extends EventRef {
  origin: string | null;
  selector: string | null;
  nextSigningKeyLength: string | null;
}

/** `domain` null: the custom MAIL FROM domain was removed. */
export interface MailFromSetting extends EventRef {
  domain: string | null;
  behaviorOnMxFailure: string | null;
}

export interface FeedbackForwardingSetting extends EventRef {
  enabled: boolean | null;
}

/** `topic` null: notifications of this type were turned off. */
export interface NotificationTopicSetting extends EventRef {
  type: string;
  topic: string | null;
}

export interface NotificationHeadersSetting extends EventRef {
  type: string;
  enabled: boolean | null;
}

export interface PolicyVersion extends EventRef {
  /** Whom the document allows (parsePolicy); empty when it cannot be read. */
  principals: PolicyPrincipal[];
  actions: string[];
  /** Why the document cannot be read, or null. */
  error: string | null;
  /** Against what the policy granted just before; null when that, or this version, is unknown. */
  changes: PolicyDiff | null;
}

export interface PolicyHistory {
  name: string;
  /** Absent now: the last thing that happened to it was a removal. */
  deleted: boolean;
  versions: PolicyVersion[];
  /** Calls that removed it: policy deletions, and identity deletions while it existed. */
  removals: EventRef[];
}

/** The identity in one account and region. */
export interface LocationLifecycle {
  account: string | null;
  region: string | null;
  state: IdentityState;
  /** The current life's first creation. */
  created: EventRef | null;
  /** The deletion that ended the current life. */
  deleted: EventRef | null;
  /** Every creation and deletion, in time order: the sequence of lives. */
  history: LifecycleEvent[];
  dkim: DkimSetting | null;
  dkimKeys: DkimKeysSetting | null;
  mailFrom: MailFromSetting | null;
  feedbackForwarding: FeedbackForwardingSetting | null;
  notificationTopics: NotificationTopicSetting[];
  notificationHeaders: NotificationHeadersSetting[];
  policies: PolicyHistory[];
}

export interface DeniedAttempt extends EventRef {
  errorCode: string;
  account: string | null;
  region: string | null;
  sourceIPAddress: string | null;
}

export interface FindingCount {
  id: string;
  count: number;
  /** `eventTime` of the newest row with it. */
  latest: string;
}

export interface IdentityLifecycle extends LocationLifecycle {
  identity: string;
  kind: IdentityKind | null;
  /** Every account and region the identity has rows in, sorted; the top level repeats one of them. */
  locations: LocationLifecycle[];
  denied: DeniedAttempt[];
  findings: FindingCount[];
}

/** Stands for a policy name the row does not give (SES names are letters, digits, `-` and `_` only). */
export const UNKNOWN_POLICY_NAME = '(unknown)';
/** Stands for a notification type the row does not give. */
export const UNKNOWN_NOTIFICATION_TYPE = '(unknown)';

const IDENTITY_KINDS: ReadonlySet<string> = new Set<IdentityKind>(['email', 'domain', 'resource', 'account']);

/** One row, read: every field checked. */
interface Event {
  /** Order and identity of the event. */
  key: string;
  ref: EventRef;
  row: Record<string, unknown>;
  eventName: string;
  errorCode: string | undefined;
  readOnly: boolean;
  account: string | null;
  region: string | null;
}

export function identityLifecycle(identity: string, rows: AuditRow[]): IdentityLifecycle {
  const events = readEvents(identity, rows);

  const byLocation = new Map<string, Event[]>();
  for (const e of events) {
    const k = locationKey(e.account, e.region);
    const list = byLocation.get(k);
    if (list) list.push(e);
    else byLocation.set(k, [e]);
  }
  const built = [...byLocation.values()].map((list) => buildLocation(list));
  built.sort((a, b) => compareNullable(a.location.account, b.location.account) || compareNullable(a.location.region, b.location.region));
  const locations = built.map((b) => b.location);

  // The location changed last is the one the top level describes; without any change, the one seen last.
  let primary: Built | undefined;
  for (const b of built) {
    if (!primary || compareRecency(b, primary) > 0) primary = b;
  }
  const top = primary?.location ?? emptyLocation();

  const kind = lastKind(events);
  return {
    identity,
    kind,
    account: top.account,
    region: top.region,
    state: top.state,
    created: top.created,
    deleted: top.deleted,
    history: top.history,
    dkim: top.dkim,
    dkimKeys: top.dkimKeys,
    mailFrom: top.mailFrom,
    feedbackForwarding: top.feedbackForwarding,
    notificationTopics: top.notificationTopics,
    notificationHeaders: top.notificationHeaders,
    policies: top.policies,
    locations,
    denied: deniedAttempts(events),
    findings: findingCounts(events),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rows to events

function readEvents(identity: string, rows: readonly unknown[]): Event[] {
  const byKey = new Map<string, { row: Record<string, unknown>; text?: string }>();
  for (const value of Array.isArray(rows) ? rows : []) {
    const row = asObject(value);
    if (!row || row.identity !== identity) continue;
    const key = keyOf(row);
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { row });
      continue;
    }
    // The same event twice: keep the same one whatever the input order (the smaller JSON text).
    seen.text ??= jsonText(seen.row) ?? '';
    const text = jsonText(row) ?? '';
    if (text < seen.text) byKey.set(key, { row, text });
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([key, { row }]) => {
      const eventName = str(row.eventName) ?? 'unknown';
      return {
        key,
        ref: {
          time: str(row.eventTime) ?? timeOfKey(key),
          actor: str(row.actor) ?? 'unknown',
          who: personOf(row),
          eventName,
          eventKey: str(row.eventKey) ?? key,
        },
        row,
        eventName,
        errorCode: str(row.errorCode),
        readOnly: row.readOnly === true,
        account: str(row.accountId) ?? null,
        region: str(row.awsRegion) ?? null,
      };
    });
}

function keyOf(row: Record<string, unknown>): string {
  const key = str(row.eventKey);
  if (key !== undefined) return key;
  const time = str(row.eventTime);
  const id = str(row.eventID);
  if (time !== undefined && id !== undefined) return `${time}#${id}`;
  return `#${jsonText(row) ?? ''}`;
}

/** The time part of an `eventKey`, for a row without `eventTime`. */
function timeOfKey(key: string): string {
  const hash = key.indexOf('#');
  return hash > 0 ? key.slice(0, hash) : 'unknown';
}

/**
 * The person behind a call. A role session's name is who assumed the role (for IAM Identity Center users
 * their sign-in); the row builder stores it as `userName`.
 */
/** The person behind a call, as history names them (whoOf), from a row whose fields are checked first. */
function personOf(row: Record<string, unknown>): string {
  return whoOf({
    actor: str(row.actor) ?? 'unknown',
    actorType: str(row.actorType),
    principalArn: str(row.principalArn),
    principalId: str(row.principalId),
    userName: str(row.userName),
    invokedBy: str(row.invokedBy),
  });
}

/** requestParameters as an object: stored as a map, or as JSON text when DynamoDB could not hold it. */
function paramsOf(row: Record<string, unknown>): { params: Record<string, unknown> } | { error: string } {
  const value = row.requestParameters;
  if (value === undefined || value === null) return { error: 'the row has no requestParameters' };
  if (typeof value !== 'string') {
    const params = asObject(value);
    return params ? { params } : { error: 'requestParameters is not an object' };
  }
  const cut = row.truncated === true ? ' (the stored row was cut to fit; the full record is in its sourceObject)' : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { error: `requestParameters is stored as text that is not JSON${cut}` };
  }
  const params = asObject(parsed);
  return params ? { params } : { error: `requestParameters is stored as text that is not a JSON object${cut}` };
}

function paramsOrEmpty(row: Record<string, unknown>): Record<string, unknown> {
  const read = paramsOf(row);
  return 'params' in read ? read.params : {};
}

function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

// ---------------------------------------------------------------------------------------------------------
// One location

interface Built {
  location: LocationLifecycle;
  /** Key of the last successful change, or undefined. */
  lastChange: string | undefined;
  lastKey: string;
}

/** Which location changed last; without changes, which was seen last. */
function compareRecency(a: Built, b: Built): number {
  return compare(a.lastChange ?? '', b.lastChange ?? '') || compare(a.lastKey, b.lastKey);
}

/** Events of one location, in order. */
function buildLocation(events: Event[]): Built {
  const changes = events.filter((e) => e.errorCode === undefined && !e.readOnly);

  // Lives: a creation after a deletion starts a new one; a life ends at its first deletion.
  const history: LifecycleEvent[] = [];
  let created: EventRef | null = null;
  let deleted: EventRef | null = null;
  let lifeStart: string | undefined;
  for (const e of changes) {
    if (CREATE_IDENTITY.has(e.eventName)) {
      history.push({ action: 'created', ...e.ref });
      if (deleted !== null) {
        deleted = null;
        created = e.ref;
        lifeStart = e.key;
      } else {
        created ??= e.ref;
      }
    } else if (DELETE_IDENTITY.has(e.eventName)) {
      history.push({ action: 'deleted', ...e.ref });
      deleted ??= e.ref;
    }
  }
  const state: IdentityState = deleted !== null ? 'deleted' : created !== null ? 'exists' : 'unknown';

  const settings = readSettings(lifeStart === undefined ? changes : changes.filter((e) => compare(e.key, lifeStart) >= 0));
  const policies = readPolicies(changes);

  const first = events[0];
  const lastChange = [...changes].reverse().find((e) => isStateChange(e.eventName))?.key;
  return {
    location: {
      account: first?.account ?? null,
      region: first?.region ?? null,
      state,
      created,
      deleted,
      history,
      ...settings,
      policies,
    },
    lastChange,
    lastKey: events[events.length - 1]?.key ?? '',
  };
}

type Settings = Pick<
  LocationLifecycle,
  'dkim' | 'dkimKeys' | 'mailFrom' | 'feedbackForwarding' | 'notificationTopics' | 'notificationHeaders'
>;

const SETTING_EVENTS: ReadonlySet<string> = new Set([
  'SetIdentityDkimEnabled',
  'PutEmailIdentityDkimAttributes',
  'VerifyDomainDkim',
  'PutEmailIdentityDkimSigningAttributes',
  'SetIdentityMailFromDomain',
  'PutEmailIdentityMailFromAttributes',
  'SetIdentityFeedbackForwardingEnabled',
  'PutEmailIdentityFeedbackAttributes',
  'SetIdentityNotificationTopic',
  'SetIdentityHeadersInNotificationsEnabled',
]);

function isStateChange(eventName: string): boolean {
  return (
    CREATE_IDENTITY.has(eventName) ||
    DELETE_IDENTITY.has(eventName) ||
    PUT_POLICY.has(eventName) ||
    DELETE_POLICY.has(eventName) ||
    SETTING_EVENTS.has(eventName)
  );
}

/**
 * The last successful change of each setting. Parameter names are the SES v1 (2010-12-01) and v2
 * (2019-09-27) request members, lower camel case as CloudTrail logs them.
 */
function noSettings(): Settings {
  return { dkim: null, dkimKeys: null, mailFrom: null, feedbackForwarding: null, notificationTopics: [], notificationHeaders: [] };
}

function readSettings(changes: Event[]): Settings {
  const out = noSettings();
  const topics = new Map<string, NotificationTopicSetting>();
  const headers = new Map<string, NotificationHeadersSetting>();
  for (const e of changes) {
    const name = e.eventName;
    if (!SETTING_EVENTS.has(name) && name !== 'CreateEmailIdentity') continue;
    const p = paramsOrEmpty(e.row);
    switch (name) {
      case 'SetIdentityDkimEnabled':
        out.dkim = { enabled: bool(p.dkimEnabled), ...e.ref };
        break;
      case 'PutEmailIdentityDkimAttributes':
        out.dkim = { enabled: bool(p.signingEnabled), ...e.ref };
        break;
      case 'VerifyDomainDkim':
        // v1 Easy DKIM: SES makes the keys and returns the tokens to publish.
        out.dkimKeys = { origin: 'AWS_SES', selector: null, nextSigningKeyLength: null, ...e.ref };
        break;
      case 'PutEmailIdentityDkimSigningAttributes': {
        const attrs = asObject(p.signingAttributes);
        out.dkimKeys = {
          origin: str(p.signingAttributesOrigin) ?? null,
          selector: str(attrs?.domainSigningSelector) ?? null,
          nextSigningKeyLength: str(attrs?.nextSigningKeyLength) ?? null,
          ...e.ref,
        };
        break;
      }
      case 'CreateEmailIdentity': {
        // A domain gets Easy DKIM unless the call brings its own key (a selector and a private key).
        const attrs = asObject(p.dkimSigningAttributes);
        if (!attrs && str(e.row.identityKind) !== 'domain') break;
        const selector = str(attrs?.domainSigningSelector) ?? null;
        out.dkimKeys = {
          origin: str(attrs?.domainSigningAttributesOrigin) ?? (selector !== null ? 'EXTERNAL' : 'AWS_SES'),
          selector,
          nextSigningKeyLength: str(attrs?.nextSigningKeyLength) ?? null,
          ...e.ref,
        };
        break;
      }
      case 'SetIdentityMailFromDomain':
      case 'PutEmailIdentityMailFromAttributes':
        out.mailFrom = {
          domain: str(p.mailFromDomain) ?? null,
          // v1 spells it MX, v2 Mx.
          behaviorOnMxFailure: str(p.behaviorOnMXFailure) ?? str(p.behaviorOnMxFailure) ?? null,
          ...e.ref,
        };
        break;
      case 'SetIdentityFeedbackForwardingEnabled':
        out.feedbackForwarding = { enabled: bool(p.forwardingEnabled), ...e.ref };
        break;
      case 'PutEmailIdentityFeedbackAttributes':
        out.feedbackForwarding = { enabled: bool(p.emailForwardingEnabled), ...e.ref };
        break;
      case 'SetIdentityNotificationTopic': {
        const type = str(p.notificationType) ?? UNKNOWN_NOTIFICATION_TYPE;
        topics.set(type, { type, topic: str(p.snsTopic) ?? null, ...e.ref });
        break;
      }
      case 'SetIdentityHeadersInNotificationsEnabled': {
        const type = str(p.notificationType) ?? UNKNOWN_NOTIFICATION_TYPE;
        headers.set(type, { type, enabled: bool(p.enabled), ...e.ref });
        break;
      }
    }
  }
  out.notificationTopics = [...topics.values()].sort((a, b) => compare(a.type, b.type));
  out.notificationHeaders = [...headers.values()].sort((a, b) => compare(a.type, b.type));
  return out;
}

/** What a policy granted at a point in its history. */
type Grants = PolicyGrants | 'none' | 'unknown' | 'unreadable';

interface PolicyTrack {
  history: PolicyHistory;
  grants: Grants;
}

/** Every policy of the location, over all its lives, sorted by name. */
function readPolicies(changes: Event[]): PolicyHistory[] {
  const tracks = new Map<string, PolicyTrack>();
  // Once the identity is seen created or deleted, a policy not seen yet is known not to exist.
  let unseen: Grants = 'unknown';
  for (const e of changes) {
    const name = e.eventName;
    if (CREATE_IDENTITY.has(name)) {
      unseen = 'none';
    } else if (DELETE_IDENTITY.has(name)) {
      unseen = 'none';
      for (const track of tracks.values()) {
        if (track.grants === 'none') continue;
        track.history.removals.push(e.ref);
        track.history.deleted = true;
        track.grants = 'none';
      }
    } else if (PUT_POLICY.has(name) || DELETE_POLICY.has(name)) {
      const read = paramsOf(e.row);
      const params = 'params' in read ? read.params : undefined;
      const policyName = str(params?.policyName) ?? UNKNOWN_POLICY_NAME;
      let track = tracks.get(policyName);
      if (!track) {
        track = { history: { name: policyName, deleted: false, versions: [], removals: [] }, grants: unseen };
        tracks.set(policyName, track);
      }
      if (DELETE_POLICY.has(name)) {
        track.history.removals.push(e.ref);
        track.history.deleted = true;
        track.grants = 'none';
        continue;
      }
      // A v2 create fails when the policy exists, so it always starts from nothing.
      const before: Grants = name === 'CreateEmailIdentityPolicy' ? 'none' : track.grants;
      const parsed = params ? parsePolicy(params.policy, e.account ?? undefined) : undefined;
      const version: PolicyVersion = parsed?.ok
        ? {
            ...e.ref,
            principals: parsed.principals,
            actions: parsed.actions,
            error: null,
            changes: before === 'none' ? diffPolicies(undefined, parsed) : typeof before === 'object' ? diffPolicies(before, parsed) : null,
          }
        : {
            ...e.ref,
            principals: [],
            actions: [],
            error: parsed ? parsed.reason : 'error' in read ? read.error : 'no policy document',
            changes: null,
          };
      track.history.versions.push(version);
      track.history.deleted = false;
      track.grants = parsed?.ok ? { principals: parsed.principals, actions: parsed.actions } : 'unreadable';
    }
  }
  return [...tracks.values()].map((t) => t.history).sort((a, b) => compare(a.name, b.name));
}

// ---------------------------------------------------------------------------------------------------------
// Across locations

function deniedAttempts(events: Event[]): DeniedAttempt[] {
  return events
    .filter((e) => e.errorCode !== undefined && DENIED.has(e.errorCode))
    .map((e) => ({
      ...e.ref,
      errorCode: e.errorCode ?? '',
      account: e.account,
      region: e.region,
      sourceIPAddress: str(e.row.sourceIPAddress) ?? null,
    }));
}

function findingCounts(events: Event[]): FindingCount[] {
  const counts = new Map<string, FindingCount>();
  for (const e of events) {
    const ids = Array.isArray(e.row.findings) ? e.row.findings : [];
    for (const id of new Set(ids.filter((x): x is string => typeof x === 'string' && x !== ''))) {
      const c = counts.get(id);
      // Events are in time order, so the last one seen is the newest.
      if (c) {
        c.count++;
        c.latest = e.ref.time;
      } else {
        counts.set(id, { id, count: 1, latest: e.ref.time });
      }
    }
  }
  return [...counts.values()].sort((a, b) => compare(a.id, b.id));
}

function lastKind(events: Event[]): IdentityKind | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const kind = events[i].row.identityKind;
    if (isIdentityKind(kind)) return kind;
  }
  return null;
}

function isIdentityKind(v: unknown): v is IdentityKind {
  return typeof v === 'string' && IDENTITY_KINDS.has(v);
}

function emptyLocation(): LocationLifecycle {
  return {
    account: null,
    region: null,
    state: 'unknown',
    created: null,
    deleted: null,
    history: [],
    ...noSettings(),
    policies: [],
  };
}

function locationKey(account: string | null, region: string | null): string {
  return JSON.stringify([account, region]);
}

/** null after every string. */
function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return compare(a, b);
}

// Code-unit order: the same on every machine, unlike localeCompare.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
