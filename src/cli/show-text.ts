/**
 * The text view of `ses-audit show`: an identity's life and state (src/ses/lifecycle.ts) for a terminal of
 * `width` columns. Every value comes from CloudTrail logs, which anyone able to call SES can write to, so each
 * one is escaped before it is printed: control characters, bidi overrides and other invisible format
 * characters show as `\xHH` / `\u{HHHH}` escapes and a backslash as `\\`, so nothing in a log can move the
 * cursor, recolour the terminal or reorder what is shown. Pure.
 */
import type {
  DeniedAttempt,
  EventRef,
  IdentityLifecycle,
  IdentityState,
  LocationLifecycle,
  PolicyHistory,
  PolicyVersion,
} from '../ses/lifecycle.js';
import type { PolicyPrincipal } from '../ses/policy.js';

/** Narrower terminals are laid out as this wide. */
export const MIN_WIDTH = 20;

export function formatLifecycle(model: IdentityLifecycle, width = 80): string {
  const out = new Layout(Math.max(MIN_WIDTH, Number.isFinite(width) ? Math.floor(width) : 80));
  const kind = model.kind === null ? '' : ` (${model.kind === 'resource' || model.kind === 'account' ? model.kind : `${model.kind} identity`})`;
  out.line(0, `${clean(model.identity)}${kind}`);
  if (model.locations.length === 0) {
    out.line(0, 'No audit rows for this identity.');
    return out.text();
  }
  if (model.locations.length > 1) {
    out.line(
      0,
      `Seen in ${model.locations.length} account/region pairs, each its own identity in SES; the first below is the one changed last.`,
    );
  }
  // The location the top level describes comes first, then the others in their order.
  const first = model.locations.find((l) => l.account === model.account && l.region === model.region);
  for (const location of [...(first ? [first] : []), ...model.locations.filter((l) => l !== first)]) {
    out.blank();
    formatLocation(out, location);
  }
  formatDenied(out, model.denied, model.locations.length > 1);
  formatFindings(out, model);
  return out.text();
}

function formatLocation(out: Layout, l: LocationLifecycle): void {
  out.line(0, `Account ${clean(l.account ?? 'not logged')}, region ${clean(l.region ?? 'not logged')}: ${stateText(l)}`);

  // As the model counts them: a creation right after a deletion begins another life.
  const lives = l.history.length === 0 ? 0 : 1 + l.history.filter((h, i) => h.action === 'created' && l.history[i - 1]?.action === 'deleted').length;
  out.line(2, lives > 1 ? `Life (${lives} lives; the state and settings below are the current life's)` : 'Life');
  if (l.history.length === 0) out.line(4, 'no creation or deletion in this history');
  for (const h of l.history) event(out, 4, h, `${h.action} (${clean(h.eventName)})`);

  out.line(2, l.state === 'deleted' ? 'Settings, as last changed before the deletion' : 'Settings, as last changed');
  const unchanged = lives > 1 ? 'no change in the current life' : 'no change in this history';
  setting(out, 'DKIM signing', l.dkim && flag(l.dkim.enabled), l.dkim, unchanged);
  setting(out, 'DKIM keys', l.dkimKeys && dkimKeysText(l.dkimKeys), l.dkimKeys, unchanged);
  setting(
    out,
    'MAIL FROM',
    l.mailFrom &&
      (l.mailFrom.domain === null
        ? 'custom MAIL FROM domain removed'
        : `${clean(l.mailFrom.domain)}${l.mailFrom.behaviorOnMxFailure === null ? '' : `, on MX failure ${clean(l.mailFrom.behaviorOnMxFailure)}`}`),
    l.mailFrom,
    unchanged,
  );
  setting(out, 'Feedback forwarding', l.feedbackForwarding && flag(l.feedbackForwarding.enabled), l.feedbackForwarding, unchanged);
  if (l.notificationTopics.length === 0) setting(out, 'Notification topics', null, null, unchanged);
  for (const n of l.notificationTopics) setting(out, `${clean(n.type)} notifications`, n.topic === null ? 'off' : clean(n.topic), n, unchanged);
  for (const n of l.notificationHeaders) setting(out, `Headers in ${clean(n.type)} notifications`, flag(n.enabled), n, unchanged);

  out.line(2, l.policies.length === 0 ? 'Sending authorization policies: none in this history' : `Sending authorization policies (${l.policies.length})`);
  for (const p of l.policies) formatPolicy(out, p);
}

function stateText(l: LocationLifecycle): string {
  const states: Record<IdentityState, string> = {
    exists: l.created ? `exists (created ${clean(l.created.time)})` : 'exists',
    deleted: `DELETED ${clean(l.deleted?.time ?? '')}`.trim(),
    unknown: 'state unknown (no creation or deletion in this history)',
  };
  return states[l.state];
}

function setting(out: Layout, label: string, value: string | null, ref: EventRef | null, unchanged: string): void {
  if (value === null || ref === null) {
    out.line(4, `${label}: ${unchanged}`);
    return;
  }
  out.line(4, `${label}: ${value}`, 8);
  event(out, 6, ref, clean(ref.eventName));
}

function flag(enabled: boolean | null): string {
  return enabled === null ? 'changed (the new value is not in the log)' : enabled ? 'on' : 'OFF';
}

function dkimKeysText(k: NonNullable<LocationLifecycle['dkimKeys']>): string {
  const origin =
    k.origin === null
      ? 'origin not logged'
      : k.origin === 'EXTERNAL'
        ? 'your own key (EXTERNAL)'
        : // AWS_SES, or AWS_SES_<REGION> for keys made in another region (deterministic Easy DKIM).
          k.origin.startsWith('AWS_SES')
          ? `Easy DKIM (${clean(k.origin)})`
          : clean(k.origin);
  const parts = [origin];
  if (k.selector !== null) parts.push(`selector ${clean(k.selector)}`);
  if (k.nextSigningKeyLength !== null) parts.push(`next key ${clean(k.nextSigningKeyLength)}`);
  return parts.join(', ');
}

function formatPolicy(out: Layout, p: PolicyHistory): void {
  const last = p.versions[p.versions.length - 1];
  let status = 'in force';
  if (p.deleted) status = 'deleted';
  else if (last !== undefined && last.error !== null) status = 'in force, document unreadable';
  else if (last !== undefined) {
    const external = last.principals.filter((x) => x.external).length;
    status = `in force: ${count(last.principals.length, 'principal')}${external > 0 ? `, ${external} EXTERNAL` : ''}`;
  }
  out.line(4, `${clean(p.name)}: ${status}`, 8);

  // Versions and removals, merged in time order; a removal takes away what the version before it granted.
  const steps: Array<{ version: PolicyVersion } | { removal: EventRef }> = [
    ...p.versions.map((version) => ({ version })),
    ...p.removals.map((removal) => ({ removal })),
  ].sort((a, b) => compare(refOf(a).eventKey, refOf(b).eventKey));
  let granted: PolicyVersion | undefined;
  for (const step of steps) {
    if ('removal' in step) {
      event(out, 6, step.removal, `removed (${clean(step.removal.eventName)})`);
      if (granted && granted.error === null) for (const x of granted.principals) out.line(8, `- ${principal(x)}`, 10);
      granted = undefined;
      continue;
    }
    const v = step.version;
    event(out, 6, v, clean(v.eventName));
    if (v.error !== null) out.line(8, `document unreadable: ${clean(v.error)}`, 10);
    else if (v.changes === null) {
      out.line(8, 'what changed is unknown (the version before is not in this history); allows:', 10);
      for (const x of v.principals) out.line(10, principal(x), 10);
      if (v.actions.length > 0) out.line(8, `actions ${v.actions.map(clean).join(', ')}`, 10);
    } else {
      const c = v.changes;
      for (const x of c.principals.added) out.line(8, `+ ${principal(x)}`, 10);
      for (const x of c.principals.removed) out.line(8, `- ${principal(x)}`, 10);
      if (c.actions.added.length > 0) out.line(8, `actions + ${c.actions.added.map(clean).join(', ')}`, 10);
      if (c.actions.removed.length > 0) out.line(8, `actions - ${c.actions.removed.map(clean).join(', ')}`, 10);
      const none = c.principals.added.length + c.principals.removed.length + c.actions.added.length + c.actions.removed.length === 0;
      if (none) out.line(8, 'no change to principals or actions', 10);
    }
    granted = v;
  }
}

function refOf(step: { version: PolicyVersion } | { removal: EventRef }): EventRef {
  return 'removal' in step ? step.removal : step.version;
}

function principal(p: PolicyPrincipal): string {
  if (p.principal === '*') return '* EXTERNAL (anyone)';
  return `${clean(shortArn(p.principal))}${p.external ? ' EXTERNAL' : ''}`;
}

function formatDenied(out: Layout, denied: DeniedAttempt[], manyLocations: boolean): void {
  out.blank();
  if (denied.length === 0) {
    out.line(0, 'Denied attempts: none');
    return;
  }
  out.line(0, `Denied attempts (${denied.length})`);
  for (const d of denied) {
    event(out, 2, d, `${clean(d.eventName)} denied (${clean(d.errorCode)})`);
    const where = [d.sourceIPAddress === null ? '' : `from ${clean(d.sourceIPAddress)}`];
    if (manyLocations) where.push(`account ${clean(d.account ?? 'not logged')}, region ${clean(d.region ?? 'not logged')}`);
    const text = where.filter((w) => w !== '').join(', ');
    if (text !== '') out.line(4, text, 6);
  }
}

function formatFindings(out: Layout, model: IdentityLifecycle): void {
  out.blank();
  if (model.findings.length === 0) {
    out.line(0, 'Findings: none');
    return;
  }
  out.line(0, 'Findings');
  for (const f of model.findings) out.line(2, `${clean(f.id)}: ${count(f.count, 'event')}, latest ${clean(f.latest)}`, 6);
}

/**
 * `TIME HEADLINE` and, below it, who made the call: `by PERSON as ACTOR`, the person and the role or user
 * they acted as (shortened), on two lines when one is too narrow.
 */
function event(out: Layout, indent: number, ref: EventRef, headline: string): void {
  out.line(indent, `${clean(ref.time)} ${headline}`, indent + 4);
  const person = `by ${clean(ref.who)}`;
  const actor = shortArn(ref.actor);
  if (actor === ref.who) {
    out.line(indent + 2, person, indent + 4);
    return;
  }
  const as = `as ${clean(actor)}`;
  if (out.fits(indent + 2, `${person} ${as}`)) out.line(indent + 2, `${person} ${as}`);
  else {
    out.line(indent + 2, person, indent + 4);
    out.line(indent + 2, as, indent + 4);
  }
}

const IAM_ARN = /^arn:([^:]+):(iam|sts)::(\d{12}):(.+)$/s;

/**
 * An IAM or STS ARN as `TYPE/NAME (ACCOUNT)`: `arn:aws:iam::111122223333:role/admin` is `role/admin
 * (111122223333)`. Role and user paths are left out (names are unique in an account without them); a role
 * session keeps its role and session names; a partition other than `aws` is kept. Anything else as is.
 */
export function shortArn(value: string): string {
  const m = IAM_ARN.exec(value);
  if (!m) return value;
  const [, partition, service, account, resource] = m;
  const where = partition === 'aws' ? account : `${account}, ${partition}`;
  const parts = resource.split('/');
  let name: string;
  if (service === 'sts' && parts[0] === 'assumed-role' && parts.length >= 3) name = `assumed-role/${parts[1]}/${parts.slice(2).join('/')}`;
  else if (parts.length >= 2) name = `${parts[0]}/${parts[parts.length - 1]}`;
  else name = resource;
  return `${name} (${where})`;
}

// Characters that must not reach a terminal as they are: C0/C1 controls, format characters (bidi
// overrides and isolates, zero-width characters), line and paragraph separators, private use, surrogates,
// unassigned code points.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Cn}\\]/gu;

/** A log value made safe to print: one line, nothing invisible, nothing that controls the terminal. */
export function clean(value: string): string {
  return value.replace(UNSAFE, (ch) => {
    if (ch === '\\') return '\\\\';
    const code = ch.codePointAt(0) ?? 0;
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`;
  });
}

function hex(n: number, digits: number): string {
  return n.toString(16).toUpperCase().padStart(digits, '0');
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------------------
// Layout: lines wrapped at spaces to the width, long words cut, continuation lines indented.

const ZERO_WIDTH = /\p{M}/u;
// East Asian wide and fullwidth blocks, and emoji: two columns in a terminal.
const WIDE =
  /[\u{1100}-\u{115F}\u{2E80}-\u{A4CF}\u{AC00}-\u{D7A3}\u{F900}-\u{FAFF}\u{FE30}-\u{FE4F}\u{FF00}-\u{FF60}\u{FFE0}-\u{FFE6}\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;

function charWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

function widthOf(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

class Layout {
  private readonly lines: string[] = [];
  constructor(private readonly width: number) {}

  /** Whether `text` fits on one line from column `indent`. */
  fits(indent: number, text: string): boolean {
    return Math.min(indent, Math.max(0, this.width - 10)) + widthOf(text) <= this.width;
  }

  blank(): void {
    this.lines.push('');
  }

  /** `text` (already cleaned) from column `indent`, continuing from column `hang`. */
  line(indent: number, text: string, hang = indent + 2): void {
    // Leave room for at least ten columns of text on a narrow terminal.
    const room = Math.max(0, this.width - 10);
    const first = Math.min(indent, room);
    const next = Math.min(hang, room);
    let current = ' '.repeat(first);
    let used = first;
    let empty = true;
    const flush = (): void => {
      this.lines.push(current.trimEnd());
      current = ' '.repeat(next);
      used = next;
      empty = true;
    };
    for (const word of text.split(' ').filter((w) => w !== '')) {
      const w = widthOf(word);
      if (!empty && used + 1 + w <= this.width) {
        current += ` ${word}`;
        used += 1 + w;
        continue;
      }
      if (!empty) flush();
      if (used + w <= this.width) {
        current += word;
        used += w;
        empty = false;
        continue;
      }
      // Longer than a whole line: cut it, character by character.
      for (const ch of word) {
        const cw = charWidth(ch);
        if (!empty && used + cw > this.width) flush();
        current += ch;
        used += cw;
        empty = false;
      }
    }
    // The last line; a text without words is a blank line.
    if (!empty || used === first) this.lines.push(current.trimEnd());
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

// Code-unit order: the same on every machine.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
