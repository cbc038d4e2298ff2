import { randomBytes } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import { ADMIN_CLIENT_PREFIX, ADMIN_USERNAME } from '../../../schemas/admin.ts';
import { AuthError, type IsaacError, NetworkError } from '../../../schemas/errors.ts';
import { nodeSubscriptions } from '../../../schemas/topics.ts';
import { mqttConnectOptions, tlsOptionsFor } from '../crypto/mqtt-options.ts';
import {
  assertTransportAllowed,
  explainConnectError,
  fetchPinnedCertificate,
  PinMismatchError,
  unreachable,
} from '../crypto/tls-pin.ts';

/**
 * The broker conversations of init/join/revoke: fetching the pinned certificate, one signed
 * admin request per CONNECT, and a one-shot retained publish as this machine.
 */
export interface BrokerTarget {
  brokers: readonly string[];
  fingerprint: string;
  certPem: string | undefined;
  insecure: boolean;
}

const CONNECT_TIMEOUT_MS = 8000;
const NOT_AUTHORIZED = 5;
/** isaac-broker's "try later": a throttled login or admin request, or its state unreachable. */
const SERVER_UNAVAILABLE = 3;

/**
 * Checks every URL's transport and fetches the certificate from the first reachable mqtts://
 * broker (a wrong fingerprint fails at once: it is never a reason to try the next URL).
 */
export async function pinBroker(
  brokers: readonly string[],
  fingerprint: string,
  insecure: boolean,
): Promise<string | undefined> {
  const tlsUrls = brokers.filter((url) => assertTransportAllowed(url, insecure).protocol === 'mqtts:');
  let lastError: unknown;
  for (const url of tlsUrls) {
    try {
      return await fetchPinnedCertificate(url, fingerprint);
    } catch (err) {
      if (err instanceof PinMismatchError) throw err;
      lastError = err;
    }
  }
  if (tlsUrls.length > 0) throw lastError;
  return undefined;
}

type ConnectOutcome = { ok: true } | { ok: false; code: number } | { ok: false; error: IsaacError };

async function connectOnce(
  url: string,
  options: IClientOptions,
  onConnected?: (client: MqttClient) => Promise<void>,
): Promise<ConnectOutcome> {
  // loaded on first use: MQTT.js was a third of the shell's start-up, and most lines never need it
  const { connect } = await import('mqtt');
  return new Promise<ConnectOutcome>((resolve) => {
    const client = connect(url, { reconnectPeriod: 0, connectTimeout: CONNECT_TIMEOUT_MS, ...options });
    let settled = false;
    const finish = (outcome: ConnectOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, error: unreachable(url, new Error('timed out')) }),
      CONNECT_TIMEOUT_MS + 2000,
    );
    client.on('connect', () => {
      if (!onConnected) return finish({ ok: true });
      onConnected(client).then(
        () => finish({ ok: true }),
        (err: unknown) => finish({ ok: false, error: unreachable(url, err) }),
      );
    });
    client.on('error', (err: Error & { code?: number | string }) => {
      if (typeof err.code === 'number') return finish({ ok: false, code: err.code });
      finish({ ok: false, error: explainConnectError(url, err) });
    });
    client.on('close', () => finish({ ok: false, error: unreachable(url, new Error('connection closed')) }));
  });
}

/**
 * Sends one signed admin request (schemas/admin.ts) over the first reachable broker URL.
 * Resolves when the broker applied it; AuthError with `refusedHint` when it refused.
 */
export async function sendAdminRequest(
  target: BrokerTarget,
  request: Uint8Array,
  what: string,
  refusedHint: string,
  /** A refusal code with a meaning of its own (schemas/admin.ts), as the error to throw. */
  explain?: (code: number) => IsaacError | undefined,
): Promise<void> {
  let lastError: IsaacError | undefined;
  for (const url of target.brokers) {
    const parsed = assertTransportAllowed(url, target.insecure);
    const outcome = await connectOnce(url, {
      clientId: `${ADMIN_CLIENT_PREFIX}${randomBytes(8).toString('hex')}`,
      username: ADMIN_USERNAME,
      password: Buffer.from(request),
      clean: true,
      protocolVersion: 4,
      ...(parsed.protocol === 'mqtts:' ? tlsOptionsFor(target) : {}),
    });
    if (outcome.ok) return;
    if ('code' in outcome) {
      const known = explain?.(outcome.code);
      if (known) throw known;
      if (outcome.code === SERVER_UNAVAILABLE)
        throw new NetworkError(`the broker is not taking the ${what} now (CONNACK 3, server unavailable)`, {
          hint: 'too many failed logins from this address (the broker throttles them), or its state is unreachable: try again in a minute; nothing was changed',
        });
      throw new AuthError(
        outcome.code === NOT_AUTHORIZED
          ? `the broker refused the ${what}`
          : `the broker refused the ${what} (CONNACK ${outcome.code})`,
        { hint: refusedHint },
      );
    }
    if (outcome.error instanceof AuthError) throw outcome.error;
    lastError = outcome.error;
  }
  throw lastError ?? new NetworkError('no broker URL given', { hint: 'give --broker mqtts://host:port' });
}

/**
 * Connects as `name` and publishes its retained roster entry. The connection opens the machine's
 * persistent session (clean: false) with a node's subscriptions, so envelopes sent to a machine
 * that has joined but not yet started isaac-node wait at the broker instead of being dropped.
 * Without `onConnected` it only checks that the broker accepts the login.
 */
export async function announceMachine(
  target: BrokerTarget,
  name: string,
  secret: Uint8Array,
  topic: string,
  payload: Uint8Array,
  staticPassword?: string,
): Promise<void> {
  await loginAs(target, name, secret, staticPassword, async (client) => {
    await client.subscribeAsync(nodeSubscriptions(name));
    await client.publishAsync(topic, Buffer.from(payload), { qos: 1, retain: true });
  });
}

/**
 * Logs in once as `name` with a static password (brokers without Isaac's tokens), so init/join
 * refuse a wrong password or a missing account before anything is written.
 */
export async function checkStaticLogin(target: BrokerTarget, name: string, password: string): Promise<void> {
  await loginAs(target, name, new Uint8Array(32), password);
}

async function loginAs(
  target: BrokerTarget,
  name: string,
  secret: Uint8Array,
  staticPassword: string | undefined,
  onConnected?: (client: MqttClient) => Promise<void>,
): Promise<void> {
  let lastError: IsaacError | undefined;
  for (const url of target.brokers) {
    const options = {
      ...mqttConnectOptions({
        url,
        name,
        secret,
        fingerprint: target.fingerprint,
        certPem: target.certPem,
        insecure: target.insecure,
        ...(staticPassword !== undefined ? { staticPassword } : {}),
      }),
      clean: false,
    };
    const outcome = await connectOnce(url, options, onConnected);
    if (outcome.ok) return;
    if ('code' in outcome) {
      throw new AuthError(`the broker refused the login of ${name} (CONNACK ${outcome.code})`, {
        hint:
          staticPassword !== undefined
            ? `check that the broker has an account ${name} with this password and the Isaac ACL for it (deploy/README.md); nothing was changed`
            : 'the enrollment did not take; run the command again',
      });
    }
    if (outcome.error instanceof AuthError) throw outcome.error;
    lastError = outcome.error;
  }
  throw lastError ?? new NetworkError('no broker URL given');
}
