import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { nodeSubscriptions, topics } from '../../../schemas/topics.ts';
import type { OutboxRepo, OutboxRow } from '../../core/store/outbox.ts';
import type { Logger } from '../logger.ts';
import { StatusClock } from '../peer-state.ts';

/**
 * One MQTT session per machine (DESIGN.md): clean:false, client id = machine name, a new client
 * (and so a fresh login token) for every connect, our own backoff with jitter and failover across
 * broker URLs. MQTT.js's own stores stay in memory; durability is the SQLite outbox.
 */
export interface BusSessionOptions {
  name: string;
  urls: readonly string[];
  /** Called for every connect attempt: must mint a fresh token (and pin TLS) for `url`. */
  connectOptions(url: string): IClientOptions;
  outbox: OutboxRepo;
  /** Retained status payload (plain JSON) published on every connect. */
  statusPayload(): Record<string, unknown>;
  /** Extra retained publications on every connect: roster entry, HA discovery. */
  onConnected?(session: BusSession): void;
  /** The broker answered a CONNECT with a refusal (MQTT 3.1.1 CONNACK return code 1-5). */
  onLoginRefused?(code: number, url: string): void;
  /**
   * Applies one incoming message. The PUBACK goes out only after this resolves; rejections must be
   * handled inside (resolve). A throw means "could not apply": the connection drops unacknowledged
   * so the broker redelivers.
   */
  onMessage(topic: string, payload: Buffer): void | Promise<void>;
  log: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface SessionState {
  connected: boolean;
  broker: string | undefined;
  connects: number;
  lastError: string | undefined;
  lastConnectedAt: number | undefined;
  /** the CONNACK code of the last refused login, until a login is accepted */
  refusedCode: number | undefined;
}

export class BusSession {
  private client: MqttClient | undefined;
  private stopped = false;
  private attempt = 0;
  private urlIndex = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<string>();
  /** Stamps of status messages (peer-state.ts): `conn` names this connection, `at` orders within it. */
  private readonly statusClock = new StatusClock();
  private conn = 0;
  readonly state: SessionState = {
    connected: false,
    broker: undefined,
    connects: 0,
    lastError: undefined,
    lastConnectedAt: undefined,
    refusedCode: undefined,
  };

  constructor(private readonly options: BusSessionOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Publishes retained status {"state":"offline"} when connected, then closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.state.connected) {
      await new Promise<void>((resolve) => {
        client.publish(
          topics.status(this.options.name),
          JSON.stringify({
            ...this.options.statusPayload(),
            state: 'offline',
            last_seen: Date.now(),
            conn: this.conn,
            at: this.statusClock.next(),
          }),
          { qos: 1, retain: true },
          () => resolve(),
        );
        setTimeout(resolve, 1000).unref();
      });
    }
    await new Promise<void>((resolve) => {
      client.end(false, {}, () => resolve());
      setTimeout(() => {
        client.end(true);
        resolve();
      }, 2000).unref();
    });
    this.state.connected = false;
  }

  /** Sends every outbox row not already in flight on this connection. */
  drainOutbox(): void {
    if (!this.client || !this.state.connected) return;
    for (const row of this.options.outbox.pending()) this.send(row);
  }

  /** Sends one freshly queued row at once when connected (it is in the outbox already). */
  send(row: OutboxRow): void {
    const client = this.client;
    if (!client || !this.state.connected) return;
    const key = Buffer.from(row.id).toString('hex');
    if (this.inflight.has(key)) return;
    this.inflight.add(key);
    client.publish(row.topic, Buffer.from(row.payload), { qos: 1 }, (err) => {
      this.inflight.delete(key);
      if (err) return; // stays in the outbox; re-sent on the next connect
      this.options.outbox.delete(row.id);
    });
  }

  /** QoS 1, retained; `done` hears the PUBACK (or an error, also when not connected). */
  publishRetained(topic: string, payload: string | Uint8Array, done?: (err?: Error) => void): void {
    if (!this.client || !this.state.connected) return done?.(new Error('not connected'));
    this.client.publish(
      topic,
      typeof payload === 'string' ? payload : Buffer.from(payload),
      { qos: 1, retain: true },
      (err) => done?.(err ?? undefined),
    );
  }

  publishStatus(): void {
    const stamp = { conn: this.conn, at: this.statusClock.next() };
    this.publishRetained(
      topics.status(this.options.name),
      JSON.stringify({ ...this.options.statusPayload(), ...stamp }),
    );
  }

  /**
   * Our own retained status says "offline" for an earlier connection (its last will fired after we
   * were back, or a restarted broker kept it): say "online" again, so machines that subscribe later
   * do not read the stale one.
   */
  private healOwnStatus(topic: string, payload: Buffer): void {
    if (topic !== topics.status(this.options.name) || !this.state.connected) return;
    try {
      const seen = JSON.parse(payload.toString('utf8')) as { state?: unknown; conn?: unknown };
      if (seen.state === 'offline' && seen.conn !== this.conn) this.publishStatus();
    } catch {
      // not ours to judge: the intake refuses unreadable status payloads
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const urls = this.options.urls;
    const url = urls[this.urlIndex % urls.length]!;
    const name = this.options.name;
    this.conn = this.statusClock.next();
    this.state.refusedCode = undefined;
    let client: MqttClient;
    try {
      client = mqtt.connect(url, {
        ...this.options.connectOptions(url),
        clientId: name,
        clean: false,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        keepalive: 30,
        resubscribe: false,
        will: {
          topic: topics.status(name),
          payload: Buffer.from(JSON.stringify({ state: 'offline', name, conn: this.conn, at: this.conn })),
          qos: 1,
          retain: true,
        },
      });
    } catch (err) {
      this.fail(url, err);
      return;
    }
    this.client = client;
    client.handleMessage = (packet, callback) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.healOwnStatus(packet.topic, payload);
      Promise.resolve()
        .then(() => this.options.onMessage(packet.topic, payload))
        .then(
          () => callback(),
          (err: unknown) => {
            this.options.log.error(
              `could not apply a message on ${packet.topic}, leaving it unacknowledged: ${String(err)}`,
            );
            client.end(true);
          },
        );
    };
    client.on('connect', (connack) => {
      // small request/reply packets: without this, Nagle + delayed ACK add ~40 ms per hop
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      this.attempt = 0;
      this.state.connected = true;
      this.state.broker = url;
      this.state.connects++;
      this.state.lastConnectedAt = Date.now();
      this.state.lastError = undefined;
      this.state.refusedCode = undefined;
      this.inflight.clear();
      this.options.log.info(
        { broker: url, sessionPresent: connack.sessionPresent },
        `connected to ${url} (session ${connack.sessionPresent ? 'present' : 'new'})`,
      );
      // Always (re)subscribe, also when the session is present: a repeated SUBSCRIBE keeps the
      // session's queue and makes the broker send the retained status and roster entries again,
      // which a session created by `isaac-node join` (or one that was offline) has not seen.
      client.subscribe(nodeSubscriptions(name), (err) => {
        if (err) this.options.log.error(`subscribe failed: ${err.message}`);
      });
      this.publishStatus();
      this.options.onConnected?.(this);
      this.drainOutbox();
    });
    client.on('error', (err: Error & { code?: unknown }) => {
      this.state.lastError = err.message;
      if (typeof err.code === 'number' && err.code > 0) {
        this.state.refusedCode = err.code;
        this.options.onLoginRefused?.(err.code, url);
      }
    });
    client.on('close', () => {
      const wasConnected = this.state.connected;
      this.state.connected = false;
      this.inflight.clear();
      if (this.client !== client) return;
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      this.client = undefined;
      if (wasConnected) this.options.log.warn({ broker: url }, `disconnected from ${url}`);
      this.fail(url, this.state.lastError ?? 'connection closed');
    });
  }

  private fail(url: string, err: unknown): void {
    if (this.stopped) return;
    this.state.lastError = err instanceof Error ? err.message : String(err);
    this.urlIndex++;
    const min = this.options.minBackoffMs ?? 250;
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    if (this.attempt === 1 || this.attempt % 10 === 0)
      this.options.log.warn(
        {
          broker: url,
          retryMs: delay,
          ...(this.state.refusedCode ? { connack: this.state.refusedCode } : {}),
        },
        this.state.refusedCode
          ? `${url} refused the login: ${this.state.lastError}; retrying in ${delay} ms`
          : `cannot reach ${url}: ${this.state.lastError}; retrying in ${delay} ms`,
      );
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
