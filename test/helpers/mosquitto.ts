import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import mqtt from 'mqtt';
import { generateTls } from '../../broker/tls.ts';
import { freePort, tempDir, waitFor } from './tmp.ts';

/**
 * A real Mosquitto process on ephemeral loopback ports, configured from deploy/mosquitto.conf and
 * deploy/mosquitto.acl as they ship (only paths and ports are changed), with machines added by
 * deploy/mosquitto-add-machine.sh. The machine's own Mosquitto on 1883 is never touched.
 */
export const DEPLOY = resolve(import.meta.dirname, '../../deploy');
const MOSQUITTO = '/usr/sbin/mosquitto';
export const mosquittoAvailable =
  existsSync(MOSQUITTO) && existsSync('/usr/bin/mosquitto_passwd') && existsSync('/usr/bin/openssl');

export interface TestMosquitto {
  dir: string;
  /** plain MQTT on loopback (deploy's `listener 1883 127.0.0.1` block) */
  url: string;
  /** MQTT over TLS (deploy's `listener 8883` block) with a fresh certificate */
  tlsUrl: string;
  fingerprint: string;
  passwdPath: string;
  aclPath: string;
  /** runs deploy/mosquitto-add-machine.sh; returns the password file it wrote */
  addMachine(name: string): string;
  /** runs deploy/mosquitto-remove-machine.sh (the revocation) */
  removeMachine(name: string): void;
  /**
   * SIGHUP (reloads password and ACL files); resolves once `name`'s login is accepted (that probe
   * logs in with clean:false, so it would receive what waits in the session), or at once without.
   */
  reload(name?: string, passwordFile?: string): Promise<void>;
  log(): string;
}

/** Mosquitto refuses to drop to its own user when that user cannot read the files: hand them over. */
function runAsUser(dir: string): string[] {
  if (process.getuid?.() !== 0) return [];
  try {
    execFileSync('id', ['mosquitto'], { stdio: 'ignore' });
    execFileSync('chown', ['-R', 'mosquitto:', dir]);
    return ['user mosquitto'];
  } catch {
    return ['user root'];
  }
}

function mosquittoConfig(dir: string, port: number, tlsPort: number, userLines: string[]): string {
  const out: string[] = [];
  for (const line of readFileSync(join(DEPLOY, 'mosquitto.conf'), 'utf8').split('\n')) {
    const key = line.trim().split(/\s+/)[0];
    if (key === 'password_file') out.push(`password_file ${join(dir, 'isaac.passwd')}`);
    else if (key === 'acl_file') out.push(`acl_file ${join(dir, 'isaac.acl')}`);
    else if (key === 'persistence_location') out.push(`persistence_location ${dir}/`);
    else if (key === 'log_dest') out.push('log_dest stderr');
    else if (key === 'certfile') out.push(`certfile ${join(dir, 'tls-cert.pem')}`);
    else if (key === 'keyfile') out.push(`keyfile ${join(dir, 'tls-key.pem')}`);
    else if (line === 'listener 8883') out.push(`listener ${tlsPort} 127.0.0.1`);
    else if (line === 'listener 1883 127.0.0.1') out.push(`listener ${port} 127.0.0.1`);
    else if (key === 'listener')
      throw new Error(`deploy/mosquitto.conf has a listener the test does not know: ${line}`);
    else out.push(line);
  }
  out.splice(
    out.findIndex((l) => l.startsWith('listener ')),
    0,
    ...userLines,
  );
  return out.join('\n');
}

export async function startMosquitto(t: Pick<TestContext, 'after'>): Promise<TestMosquitto> {
  // registered before tempDir's hook so Mosquitto stops before its directory is removed
  let stop: (() => Promise<void>) | undefined;
  t.after(() => stop?.());
  const dir = tempDir(t, 'isaac-mosquitto-');
  const passwdPath = join(dir, 'isaac.passwd');
  const aclPath = join(dir, 'isaac.acl');
  writeFileSync(passwdPath, '', { mode: 0o600 });
  copyFileSync(join(DEPLOY, 'mosquitto.acl'), aclPath);
  const { fingerprint } = generateTls(dir, ['localhost']);
  const port = await freePort();
  const tlsPort = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConfig(dir, port, tlsPort, runAsUser(dir)));
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      stderr += `[mosquitto exited: ${signal ?? code}]\n`;
      r();
    }),
  );
  stop = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  await waitFor(
    () =>
      new Promise<boolean>((r, reject) => {
        if (child.exitCode !== null) reject(new Error(`mosquitto exited: ${stderr}`));
        const s = tcpConnect(port, '127.0.0.1', () => {
          s.destroy();
          r(true);
        });
        s.on('error', () => r(false));
      }),
    'mosquitto listening',
  );
  const url = `mqtt://127.0.0.1:${port}`;
  return {
    dir,
    url,
    tlsUrl: `mqtts://127.0.0.1:${tlsPort}`,
    fingerprint,
    passwdPath,
    aclPath,
    addMachine(name) {
      const out = join(dir, `${name}.password`);
      execFileSync('sh', [join(DEPLOY, 'mosquitto-add-machine.sh'), name, out], {
        env: { ...process.env, ISAAC_MOSQUITTO_PASSWD: passwdPath, ISAAC_MOSQUITTO_ACL: aclPath },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      if (process.getuid?.() === 0) execFileSync('chown', ['-R', '--reference', dir, passwdPath, aclPath]);
      return out;
    },
    removeMachine(name) {
      execFileSync('sh', [join(DEPLOY, 'mosquitto-remove-machine.sh'), name], {
        env: {
          ...process.env,
          ISAAC_MOSQUITTO_PASSWD: passwdPath,
          ISAAC_MOSQUITTO_ACL: aclPath,
          ISAAC_MOSQUITTO_PORT: String(port),
          ISAAC_MOSQUITTO_RELOAD: `kill -HUP ${child.pid}`,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    },
    async reload(name, passwordFile) {
      child.kill('SIGHUP');
      if (name === undefined || passwordFile === undefined) return;
      const password = readFileSync(passwordFile, 'utf8').trim();
      await waitFor(
        () =>
          new Promise<boolean>((r) => {
            const probe = mqtt.connect(url, {
              clientId: name,
              username: name,
              password,
              clean: false,
              reconnectPeriod: 0,
              protocolVersion: 4,
            });
            probe.once('connect', () => probe.end(true, () => r(true)));
            probe.once('error', () => probe.end(true, () => r(false)));
          }),
        `mosquitto to accept ${name} after a reload`,
      );
    },
    log: () => stderr,
  };
}
