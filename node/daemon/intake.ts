import { EnvelopeError } from '../../schemas/envelope.ts';
import { errorLine } from '../../schemas/errors.ts';
import { type InboxKind, parseTopic, topics } from '../../schemas/topics.ts';
import type { Store } from '../core/store/store.ts';
import type { EnvelopeCodec } from './bus/codec.ts';
import { idHex, type OpenedEnvelope } from './bus/envelope-port.ts';
import { type HandlerTable, handlerOf } from './handlers/types.ts';
import type { Logger } from './logger.ts';
import { shouldApply } from './peer-state.ts';
import type { RefusalCounter } from './refusals.ts';
import { parseStatusPayload } from './status-payload.ts';

/** How far in the future a sender's clock may be (DESIGN.md "Envelope"). */
export const MAX_SKEW_MS = 5 * 60 * 1000;

/** A roster entry that verified against the network key, as the machines table takes it. */
export interface VerifiedRosterEntry {
  signPk: Uint8Array;
  boxPk: Uint8Array;
  added: number;
  revoked?: number | null;
  revokedBy?: string | null;
  admin?: boolean;
}

/** Why a roster payload was not taken (node/core/identity/trust.ts): a refusal reason and detail. */
export interface RefusedRosterEntry {
  refused: string;
  detail: string;
}

export interface IntakeDeps {
  me: string;
  store: Store;
  codec: Pick<EnvelopeCodec, 'open'>;
  handlers: HandlerTable;
  refusals: RefusalCounter;
  clock(): number;
  log: Logger;
  /** Verifies a retained roster payload (signed by the network key); undefined when it is not. */
  verifyRoster(name: string, payload: Uint8Array): VerifiedRosterEntry | RefusedRosterEntry | undefined;
  memberAdded(name: string): void;
  homeAssistantOnline(): void;
  /** the last retained status payload of each machine, for `!status` */
  retained: Map<string, Record<string, unknown>>;
}

/**
 * Everything that arrives on the session goes through here. An envelope on an inbox topic:
 * open (decrypt, decode, verify the sender's signature, check recipient and inbox), then fresh
 * (not from the future beyond skew, not expired, not seen), then its handler's `apply` and its id
 * in the seen-id table in one transaction, and after the commit the handler's `after`. Any
 * failure is one refusal: counted, logged, never a crash, never half-applied.
 */
export class Intake {
  constructor(private readonly d: IntakeDeps) {}

  receive(topic: string, payload: Buffer): void {
    if (topic === topics.haStatus) {
      if (payload.toString() === 'online') this.d.homeAssistantOnline();
      return;
    }
    const parsed = parseTopic(topic);
    if (!parsed) return this.d.refusals.refuse('unknown-topic', topic);
    if (parsed.kind === 'status') return this.status(parsed.machine, payload);
    if (parsed.kind === 'roster') return this.roster(parsed.machine, payload);
    if (parsed.machine !== this.d.me) return this.d.refusals.refuse('topic-mismatch', `message on ${topic}`);
    this.envelope(parsed.kind, payload);
  }

  private status(name: string, payload: Buffer): void {
    if (payload.length === 0) return;
    const status = parseStatusPayload(payload);
    if (!status) return this.d.refusals.refuse('bad-status', `unreadable status of ${name}`);
    if (!shouldApply(this.d.retained.get(name), status.raw)) return; // older than what is shown
    this.d.retained.set(name, status.raw);
    this.d.store.machines.applyStatus(name, status.update);
  }

  private roster(name: string, payload: Buffer): void {
    if (payload.length === 0) return;
    const entry = this.d.verifyRoster(name, payload);
    if (!entry || 'refused' in entry)
      return this.d.refusals.refuse(
        entry?.refused ?? 'bad-roster',
        entry?.detail ?? `roster entry for ${name} is not signed by the network key`,
      );
    const machines = this.d.store.machines;
    const isMember = () => machines.members().some((m) => m.name === name);
    const wasMember = isMember();
    machines.applyRoster({ name, ...entry });
    if (!wasMember && isMember()) this.d.memberAdded(name);
  }

  private envelope(kind: InboxKind, payload: Buffer): void {
    let env: OpenedEnvelope;
    try {
      env = this.d.codec.open(payload, this.d.me, kind);
    } catch (err) {
      const reason = err instanceof EnvelopeError ? err.reason : 'malformed';
      return this.d.refusals.refuse(reason, `${payload.length}-byte payload on ${kind}: ${errorLine(err)}`);
    }
    const { store, refusals } = this.d;
    const now = this.d.clock();
    const what = `${env.type} ${idHex(env.id).slice(0, 8)} from ${env.from}`;
    const handler = handlerOf(this.d.handlers, env);
    const keepUntil = env.exp + MAX_SKEW_MS;
    if (store.seenIds.has(env.id)) return refusals.refuse('replay', `${what} was already received`);
    if (env.ts > now + MAX_SKEW_MS)
      return refusals.refuse('from-future', `${what} sent ${env.ts - now} ms in the future`);
    if (env.exp <= now) {
      refusals.refuse('expired', `${what} expired ${now - env.exp} ms ago`);
      const answer = handler.expired;
      if (answer) {
        store.db.transaction(() => {
          store.seenIds.add(env.id, keepUntil);
          answer(env);
        })();
      }
      return;
    }
    try {
      store.db.transaction(() => {
        store.seenIds.add(env.id, keepUntil);
        handler.apply?.(env);
      })();
    } catch (err) {
      // nothing of it was applied; acknowledge it anyway so one bad envelope cannot loop forever
      // (if even this write fails the database is unwell: throwing leaves it unacknowledged)
      store.seenIds.add(env.id, keepUntil);
      return refusals.refuse('apply-failed', `${what}: ${errorLine(err)}`);
    }
    this.d.log.debug({ type: env.type, from: env.from }, `applied ${what}`);
    try {
      handler.after?.(env);
    } catch (err) {
      this.d.log.error({ type: env.type, from: env.from }, `${what}: applied, but ${errorLine(err)}`);
    }
  }
}
