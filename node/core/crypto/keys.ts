import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { AuthError, ConfigError, UsageError } from '../../../schemas/errors.ts';
import type { BoxKeyPair } from '../../../schemas/sealedbox.ts';
import { ensureHome, paths } from '../paths.ts';
import { hasKeys, KEY_FILES } from './key-files.ts';

export { hasKeys, KEY_FILES };

/**
 * This machine's secrets as 0600 files in ISAAC_HOME/keys (0700): the Ed25519 signing key, the
 * X25519 box key, the HMAC login secret for the broker and, on members, the network key. Each file
 * holds one base64 line. The directory appears only complete: it is written under a temporary name
 * and renamed into place, so a failed init/join never leaves half a key set behind.
 */

export interface SignKeyPair {
  publicKey: Uint8Array;
  /** 64 bytes: seed ‖ public key (tweetnacl form) */
  secretKey: Uint8Array;
}

export interface MachineKeys {
  sign: SignKeyPair;
  box: BoxKeyPair;
  /** 32-byte HMAC secret for broker login tokens */
  loginSecret: Uint8Array;
  /** the network key; every member holds it (it signs roster entries and admin requests) */
  network: SignKeyPair | undefined;
}

export function generateMachineKeys(network?: SignKeyPair): MachineKeys {
  return {
    sign: nacl.sign.keyPair(),
    box: nacl.box.keyPair(),
    loginSecret: new Uint8Array(randomBytes(32)),
    network,
  };
}

export function generateNetworkKey(): SignKeyPair {
  return nacl.sign.keyPair();
}

function writeSecretFile(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${Buffer.from(bytes).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600); // in case a umask narrowed or widened the create mode
}

/**
 * Writes `keys` into ISAAC_HOME/keys all at once. Refuses if a key set exists: replacing keys
 * would silently cut this machine off from its network.
 */
export function installKeys(home: string, keys: MachineKeys): void {
  ensureHome(home);
  const target = paths.keys(home);
  if (hasKeys(home)) {
    throw new UsageError(`this machine already has keys in ${target}`, {
      hint: 'it is already part of a network; to start over, move that directory away first',
    });
  }
  const staging = `${target}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(staging, { mode: 0o700 });
  try {
    chmodSync(staging, 0o700);
    writeSecretFile(join(staging, KEY_FILES.sign), keys.sign.secretKey.subarray(0, 32));
    writeSecretFile(join(staging, KEY_FILES.box), keys.box.secretKey);
    writeSecretFile(join(staging, KEY_FILES.login), keys.loginSecret);
    if (keys.network)
      writeSecretFile(join(staging, KEY_FILES.network), keys.network.secretKey.subarray(0, 32));
    if (existsSync(target)) {
      // an empty leftover directory may be replaced; anything in it may matter to someone
      if (readdirSync(target).length > 0) {
        throw new UsageError(`${target} holds files but no complete key set`, {
          hint: 'move that directory away (keep it if it could be a backup), then run the command again',
        });
      }
      rmdirSync(target);
    }
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Removes the key set (used to undo an install when the step after it failed). */
export function removeKeys(home: string): void {
  rmSync(paths.keys(home), { recursive: true, force: true });
}

function readSecretFile(path: string, what: string): Uint8Array {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new ConfigError(`missing key file ${path}`, {
      hint: 'this machine has no complete key set: run `isaac-node init` or `isaac-node join CODE`',
    });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new AuthError(
      `key file ${path} is readable or writable by other users (mode ${(st.mode & 0o777).toString(8)})`,
      {
        hint: `chmod 600 ${path}`,
      },
    );
  }
  const text = readFileSync(path, 'utf8').trim();
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== 32 || !/^[A-Za-z0-9+/]+=*$/.test(text)) {
    throw new ConfigError(`key file ${path} does not hold a ${what}`, {
      hint: 'restore it from a backup, or move the keys directory away and join the network again',
    });
  }
  return new Uint8Array(bytes);
}

/**
 * Loads this machine's keys, refusing (AuthError with the chmod that fixes it) when the directory
 * or any key file is accessible to group or others.
 */
export function loadIdentity(home: string): MachineKeys {
  const dir = paths.keys(home);
  let dirMode: number;
  try {
    dirMode = statSync(dir).mode;
  } catch {
    throw new ConfigError(`no keys in ${home}`, {
      hint: 'run `isaac-node init` (first machine) or `isaac-node join CODE`',
    });
  }
  if ((dirMode & 0o077) !== 0) {
    throw new AuthError(
      `key directory ${dir} is accessible to other users (mode ${(dirMode & 0o777).toString(8)})`,
      {
        hint: `chmod 700 ${dir}`,
      },
    );
  }
  const sign = nacl.sign.keyPair.fromSeed(readSecretFile(join(dir, KEY_FILES.sign), 'signing key'));
  const box = nacl.box.keyPair.fromSecretKey(readSecretFile(join(dir, KEY_FILES.box), 'box key'));
  const loginSecret = readSecretFile(join(dir, KEY_FILES.login), 'login secret');
  const networkPath = join(dir, KEY_FILES.network);
  const network = existsSync(networkPath)
    ? nacl.sign.keyPair.fromSeed(readSecretFile(networkPath, 'network key'))
    : undefined;
  return { sign, box, loginSecret, network };
}

/** Where a new network key waits while the broker is asked to accept it (see node/identity/rotation.ts). */
const STAGED_NETWORK_FILE = 'network.next.key';

/**
 * Writes a new network key beside the current one, so it is on disk before the broker binds it:
 * a crash after the broker accepted it can never lose the only copy.
 */
export function stageNetworkKey(home: string, network: SignKeyPair): void {
  const staged = join(paths.keys(home), STAGED_NETWORK_FILE);
  rmSync(staged, { force: true });
  writeSecretFile(staged, network.secretKey.subarray(0, 32));
}

/** Makes the staged network key the current one in one rename (the old secret is gone after it). */
export function commitStagedNetworkKey(home: string): void {
  renameSync(join(paths.keys(home), STAGED_NETWORK_FILE), join(paths.keys(home), KEY_FILES.network));
}

export function discardStagedNetworkKey(home: string): void {
  rmSync(join(paths.keys(home), STAGED_NETWORK_FILE), { force: true });
}

/** The network key pair for a 32-byte seed (as stored in key files and handed over on rotation). */
export function networkKeyFromSeed(seed: Uint8Array): SignKeyPair {
  return nacl.sign.keyPair.fromSeed(seed);
}
