import {
  CONNACK_INVITE_BEFORE_ROTATION,
  createAdminRequest,
  createEnrollRequest,
} from '../../../schemas/admin.ts';
import { AuthError, errorLine, UsageError } from '../../../schemas/errors.ts';
import { normalizeFingerprint } from '../../../schemas/fingerprint.ts';
import { checkBrokerUrl, type DecodedInvite, decodeInvite } from '../../../schemas/invite.ts';
import { assertMachineName } from '../../../schemas/names.ts';
import { encodeInvitedRosterEntry, encodeRosterEntry } from '../../../schemas/roster.ts';
import { topics } from '../../../schemas/topics.ts';
import {
  generateMachineKeys,
  generateNetworkKey,
  hasKeys,
  installKeys,
  type MachineKeys,
  removeKeys,
} from '../../core/crypto/keys.ts';
import {
  announceMachine,
  type BrokerTarget,
  checkStaticLogin,
  pinBroker,
  sendAdminRequest,
} from '../../core/identity/broker-ops.ts';
import {
  installBrokerPassword,
  type NetworkSettings,
  removeBrokerPassword,
  saveNetworkSettings,
} from '../../core/identity/settings.ts';
import { ensureHome, paths } from '../../core/paths.ts';
import { adoptEarlierHistory } from '../../core/store/adopt-history.ts';
import { openStore } from '../../core/store/store.ts';

/**
 * `isaac-node init` (first machine: creates the network) and `isaac-node join CODE` (every other
 * machine). Both do all their talking to the broker before writing anything, then install keys
 * and settings in one step, so a typo, a wrong fingerprint or an unreachable broker leaves the
 * machine exactly as it was. Publishing the roster entry comes last and is not fatal: isaac-node
 * re-publishes it on every connect.
 *
 * With `brokerPassword` (a broker that knows only static passwords: Mosquitto, EMQX, RabbitMQ)
 * there is no isaac-broker to bind or enroll with: the broker's administrator created the account
 * and its ACL beforehand, init/join check that login, and the machine publishes its own roster entry.
 */
export interface InitOptions {
  home: string;
  brokers: readonly string[];
  fingerprint: string;
  /** isaac-broker's one-time setup token; not used with `brokerPassword` */
  setupToken?: string;
  name: string;
  brokerPassword?: string;
  /** the broker certificate if the user has it; otherwise it is fetched and checked against the pin */
  certPem?: string;
  insecure?: boolean;
  nowMs?: number;
}

export interface JoinOptions {
  home: string;
  code: string;
  brokerPassword?: string;
  insecure?: boolean;
  nowMs?: number;
}

export interface IdentityResult {
  name: string;
  brokers: string[];
  fingerprint: string;
  /** false when the roster entry could not be published now (isaac-node will on its next connect) */
  rosterPublished: boolean;
  /** one line for the user when something non-fatal went wrong */
  warning: string | undefined;
}

function refuseIfConfigured(home: string): void {
  if (hasKeys(home)) {
    throw new UsageError(`this machine already belongs to a network (keys in ${paths.keys(home)})`, {
      hint: 'nothing was changed; to start over, move that directory and isaac.db away first',
    });
  }
}

export async function initNetwork(options: InitOptions): Promise<IdentityResult> {
  const name = assertMachineName(options.name);
  const brokers = checkBrokers(options.brokers);
  let fingerprint: string;
  try {
    fingerprint = normalizeFingerprint(options.fingerprint);
  } catch {
    throw new UsageError(`${JSON.stringify(options.fingerprint)} is not a certificate fingerprint`, {
      hint: 'give sha256:<64 hex digits> as `isaac-broker init` printed it',
    });
  }
  const setupToken = options.setupToken?.trim() ?? '';
  const password = options.brokerPassword;
  if (password !== undefined && setupToken !== '') {
    throw new UsageError(
      'give either --setup-token (isaac-broker) or --broker-password-file (other brokers)',
      {
        hint: 'isaac-broker checks Isaac tokens; Mosquitto, EMQX and RabbitMQ need the static password',
      },
    );
  }
  if (password === undefined && setupToken === '') {
    throw new UsageError('missing setup token', {
      hint: 'give --setup-token as printed by `isaac-broker init` (or --broker-password-file for Mosquitto, EMQX, RabbitMQ)',
    });
  }
  refuseIfConfigured(options.home);
  const insecure = options.insecure === true;
  const certPem = options.certPem ?? (await pinBroker(brokers, fingerprint, insecure));
  const target: BrokerTarget = { brokers, fingerprint, certPem, insecure };

  const network = generateNetworkKey();
  const keys = generateMachineKeys(network);
  const nowMs = options.nowMs ?? Date.now();
  // the first machine is an admin: it holds the network key
  const rosterEntry = encodeRosterEntry(
    { name, signPk: keys.sign.publicKey, boxPk: keys.box.publicKey, added: nowMs, admin: true },
    network.secretKey,
  );
  if (password !== undefined) {
    await checkStaticLogin(target, name, password);
    return await commitAndPublish(
      options.home,
      name,
      keys,
      network.publicKey,
      rosterEntry,
      target,
      nowMs,
      password,
    );
  }
  const request = createAdminRequest(
    {
      op: 'bind',
      name,
      secret: keys.loginSecret,
      networkPk: network.publicKey,
      setupToken,
    },
    network.secretKey,
    options.nowMs,
  );
  await sendAdminRequest(
    target,
    request,
    'network setup',
    'check the setup token `isaac-broker init` printed; a broker already bound to a network refuses another (join it with an invite instead)',
  );
  return await commitAndPublish(options.home, name, keys, network.publicKey, rosterEntry, target, nowMs);
}

export async function joinNetwork(options: JoinOptions): Promise<IdentityResult> {
  const invite = decodeInvite(options.code, options.nowMs);
  refuseIfConfigured(options.home);
  const insecure = options.insecure === true;
  const certPem = await pinBroker(invite.brokers, invite.fingerprint, insecure);
  const target: BrokerTarget = {
    brokers: invite.brokers,
    fingerprint: invite.fingerprint,
    certPem,
    insecure,
  };

  // a member holds no network key: it proves the invite once, with the invite key
  const keys = generateMachineKeys();
  const nowMs = options.nowMs ?? Date.now();
  const rosterEntry = encodeInvitedRosterEntry(
    { name: invite.name, signPk: keys.sign.publicKey, boxPk: keys.box.publicKey, added: nowMs },
    invite.inviteKey.secretKey,
    invite.grant,
  );
  if (options.brokerPassword !== undefined) {
    // a static-password broker cannot consume the invite: members still take one enrollment per invite
    await checkStaticLogin(target, invite.name, options.brokerPassword);
  } else {
    await enrollAtBroker(target, invite, keys.loginSecret, nowMs);
  }
  return await commitAndPublish(
    options.home,
    invite.name,
    keys,
    invite.networkPk,
    rosterEntry,
    target,
    nowMs,
    options.brokerPassword,
  );
}

async function enrollAtBroker(
  target: Parameters<typeof sendAdminRequest>[0],
  invite: DecodedInvite,
  loginSecret: Uint8Array,
  nowMs: number,
): Promise<void> {
  const request = createEnrollRequest(
    invite.name,
    loginSecret,
    invite.grant,
    invite.inviteKey.secretKey,
    nowMs,
  );
  await sendAdminRequest(
    target,
    request,
    'enrollment',
    `an invite joins once, as its name, before it expires: it was used already, it expired, ${invite.name} is already a member, or the broker now serves another network; ask an admin for a new invite`,
    (code) => (code === CONNACK_INVITE_BEFORE_ROTATION ? inviteBeforeRotation(invite) : undefined),
  );
}

/** The broker knows the invite's network key as one a rotation retired: the invite predates the rotation. */
function inviteBeforeRotation(invite: DecodedInvite): AuthError {
  const made = new Date(invite.grantFields.issued).toISOString().slice(0, 16).replace('T', ' ');
  return new AuthError(
    `this invite for ${invite.name} was made on ${made} UTC, before the network key was rotated`,
    { hint: `ask an admin for a new one (isaac invite ${invite.name})` },
  );
}

function checkBrokers(brokers: readonly string[]): string[] {
  const list = brokers
    .flatMap((b) => b.split(','))
    .map((b) => b.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new UsageError('no broker URL given', { hint: 'give --broker mqtts://host:port' });
  return list.map(checkBrokerUrl);
}

async function commitAndPublish(
  home: string,
  name: string,
  keys: MachineKeys,
  networkPk: Uint8Array,
  rosterEntry: Uint8Array,
  target: BrokerTarget,
  nowMs: number,
  brokerPassword?: string,
): Promise<IdentityResult> {
  const settings: NetworkSettings = {
    name,
    brokers: [...target.brokers],
    fingerprint: target.fingerprint,
    certPem: target.certPem,
    networkPk,
    rosterEntry,
    insecure: target.insecure,
    brokerLogin: brokerPassword === undefined ? 'token' : 'static-password',
  };

  ensureHome(home);
  const store = openStore(home);
  try {
    installKeys(home, keys);
    try {
      if (brokerPassword !== undefined) installBrokerPassword(home, brokerPassword);
      store.db.transaction(() => {
        saveNetworkSettings(store, settings);
        store.machines.applyRoster({
          name,
          signPk: keys.sign.publicKey,
          boxPk: keys.box.publicKey,
          added: nowMs,
          admin: keys.network !== undefined,
        });
        adoptEarlierHistory(store, name); // first-day history joins this machine's series
      })();
    } catch (err) {
      removeKeys(home);
      removeBrokerPassword(home);
      throw err;
    }
  } finally {
    store.close();
  }

  try {
    await announceMachine(target, name, keys.loginSecret, topics.roster(name), rosterEntry, brokerPassword);
    return {
      name,
      brokers: settings.brokers,
      fingerprint: target.fingerprint,
      rosterPublished: true,
      warning: undefined,
    };
  } catch (err) {
    return {
      name,
      brokers: settings.brokers,
      fingerprint: target.fingerprint,
      rosterPublished: false,
      warning: `joined, but the roster entry is not published yet (${errorLine(err)}); isaac-node publishes it when it connects`,
    };
  }
}
