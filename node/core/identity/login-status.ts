import type { LoginRefusalState } from '../store/broker-login.ts';
import type { Store } from '../store/store.ts';
import { NETWORK_KEYS } from './settings.ts';

/**
 * Why this machine cannot get through to the broker, in one line with what to do: shown by
 * `isaac-node status`, `/show status` and every `!` command (issue 11, "honest status").
 *
 * Two sources: this machine's own revoked roster entry, signed by the network key (it says when
 * and, since it names the revoking admin, by whom; the broker publishes it to the machine before
 * closing its session), and the broker's CONNACK code, the one reason MQTT 3.1.1 can carry.
 * isaac-broker answers 5 "not authorized" only for a revoked machine, 4 "bad user name or
 * password" for other credential problems, 3 "server unavailable" for a throttled login or an
 * unreachable state, 2 "identifier rejected" for a client id that is not the login's. Brokers
 * with static passwords (Mosquitto, EMQX) answer 4 or 5 for any refused login.
 */
export interface LoginProblem {
  state: LoginRefusalState;
  line: string;
  since: number;
}

/** What a refused CONNACK means for a machine logging in with tokens or a static password. */
export function refusalState(code: number, staticPassword: boolean): LoginRefusalState {
  if (code === 3) return 'unavailable';
  if (code === 5 && !staticPassword) return 'revoked';
  return 'refused';
}

export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

const CODES: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** undefined when nothing stands in the way (the broker may still be unreachable: see session state). */
export function loginProblem(store: Store): LoginProblem | undefined {
  const me = store.config.get('machine.name') ?? store.machineName();
  const newInvite = `ask an admin for a new invite (\`isaac invite ${me}\` there), then run \`isaac-node join CODE\` here`;
  const own = store.machines.get(me);
  if (own?.revoked != null) {
    const by = own.revoked_by ? ` by ${own.revoked_by}` : '';
    return {
      state: 'revoked',
      since: own.revoked,
      line: `this machine (${me}) was revoked on ${formatUtc(own.revoked)}${by}: ${newInvite}`,
    };
  }
  const row = store.brokerLogin.get();
  if (!row) return undefined;
  const since = formatUtc(row.since);
  const what = `CONNACK ${row.code}, ${CODES[row.code] ?? 'refused'}`;
  const staticPassword = store.config.get(NETWORK_KEYS.brokerLogin) === 'static-password';
  let line: string;
  if (row.state === 'revoked') {
    line = `the broker refuses ${me} as revoked (${what}) since ${since}: ${newInvite}`;
  } else if (row.state === 'unavailable') {
    line = `the broker is not taking ${me}'s logins now (${what}) since ${since}: it throttles after failed logins, or its state is unreachable; isaac-node keeps trying`;
  } else if (staticPassword) {
    line = `the broker refuses ${me}'s password (${what}) since ${since}: check ${me}'s account on the broker (deploy/mosquitto-add-machine.sh ${me}); if it was removed there, ${newInvite}`;
  } else {
    line = `the broker refuses ${me}'s login (${what}) since ${since}: check this machine's clock; if the broker was set up again or no longer knows ${me}, ${newInvite}`;
  }
  return { state: row.state, since: row.since, line };
}
