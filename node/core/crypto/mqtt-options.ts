import type { IClientOptions, MqttClient } from 'mqtt';
import { ConfigError } from '../../../schemas/errors.ts';
import { mintToken } from '../../../schemas/token.ts';
import { assertTransportAllowed, pinnedTlsOptions } from './tls-pin.ts';

/**
 * MQTT client options for this machine's login, shared by isaac-node and the identity flows:
 * client id = username = machine name, clean:false, password = a TTL token minted now (or the
 * static password of a broker that cannot check tokens), and for mqtts:// the pinned certificate.
 * Call it again for every connect: a token is single-use.
 * (A client that relies on MQTT.js's own reconnect must also call `refreshTokenOnReconnect`.)
 */
export interface MqttLogin {
  url: string;
  name: string;
  /** the machine's 32-byte HMAC login secret */
  secret: Uint8Array;
  /** `sha256:<hex>` pin; required for mqtts:// unless insecure */
  fingerprint?: string;
  /** the pinned certificate as fetched at init/join (NetworkSettings.certPem) */
  certPem?: string;
  /** allow plain mqtt:// beyond loopback, and mqtts:// without a pin */
  insecure?: boolean;
  tokenTtlSeconds?: number;
  /**
   * A static password (Mosquitto, EMQX, RabbitMQ: brokers that cannot check Isaac's tokens), sent
   * as is instead of a token; `secret` is then unused for the login.
   */
  staticPassword?: string;
}

export function mqttConnectOptions(login: MqttLogin): IClientOptions {
  const parsed = assertTransportAllowed(login.url, login.insecure);
  const options: IClientOptions = {
    clientId: login.name,
    username: login.name,
    password:
      login.staticPassword ?? mintToken(login.name, login.secret, { ttlSeconds: login.tokenTtlSeconds }),
    clean: false,
    protocolVersion: 4,
  };
  if (parsed.protocol === 'mqtts:') Object.assign(options, tlsOptionsFor(login));
  return options;
}

/** The TLS part alone, for connections that are not a machine login (admin requests). */
export function tlsOptionsFor(
  login: Pick<MqttLogin, 'fingerprint' | 'certPem' | 'insecure'>,
): IClientOptions {
  if (login.fingerprint && login.certPem)
    return pinnedTlsOptions(login.fingerprint, login.certPem) as IClientOptions;
  if (login.insecure) return { rejectUnauthorized: false };
  throw new ConfigError('no pinned broker certificate for an mqtts:// broker', {
    hint: 'run `isaac-node join CODE` (or init) again so the broker certificate is pinned',
  });
}

/**
 * MQTT.js reuses `client.options` when it reconnects by itself; it emits 'reconnect' synchronously
 * before building the next CONNECT packet, so replacing the password there sends a fresh token.
 */
export function refreshTokenOnReconnect(client: MqttClient, name: string, secret: Uint8Array): void {
  client.on('reconnect', () => {
    client.options.password = mintToken(name, secret);
  });
}
