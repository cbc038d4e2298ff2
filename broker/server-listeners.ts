/** The broker's sockets: TLS, plain TCP and (opt-in) WebSocket listeners feeding one Aedes. */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { ConfigError } from '../schemas/errors.ts';
import type { Counters, ListeningPorts } from './counters.ts';
import { type BrokerLimits, guardFrameSize } from './limits.ts';
import type { TlsMaterial } from './tls.ts';

export interface ListenOptions {
  host?: string;
  tlsPort?: number | false;
  tcpPort?: number | false;
  insecureTcp?: boolean;
  wsPort?: number | false;
}

export interface Listeners {
  ports: ListeningPorts;
  servers: Server[];
}

/**
 * Opens the listeners the options ask for. On failure the ones already open are closed and the
 * error thrown (a port in use as a ConfigError naming it).
 */
export async function openListeners(
  aedes: Aedes,
  options: ListenOptions,
  tls: Pick<TlsMaterial, 'key' | 'cert'>,
  deps: { limits: BrokerLimits; counters: Counters; log: Logger },
): Promise<Listeners> {
  const { limits, counters, log } = deps;

  function handle(socket: Socket): void {
    socket.on('error', () => undefined);
    // small request/response envelopes (exec, ping) must not wait for Nagle's 40 ms coalescing
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    guardFrameSize(client, limits.maxPayload, () => {
      counters.refuse('oversized');
      log.warn({ remote: socket.remoteAddress, reason: 'oversized' }, 'packet refused');
    });
  }

  const servers: Server[] = [];
  const listen = (server: Server, port: number, host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        servers.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });

  const host = options.host ?? '0.0.0.0';
  const ports: ListeningPorts = { tls: null, tcp: null, ws: null };
  try {
    const tlsPort = options.tlsPort ?? 8883;
    if (tlsPort !== false) {
      const server = createTlsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, handle);
      server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
      ports.tls = await listen(server, tlsPort, host);
    }
    const tcpPort = options.tcpPort ?? 1883;
    if (tcpPort !== false) {
      const tcpHost = options.insecureTcp ? host : '127.0.0.1';
      try {
        ports.tcp = await listen(createTcpServer(handle), tcpPort, tcpHost);
      } catch (err) {
        // A NAS often runs Mosquitto for Home Assistant on 1883: the members' TLS listener matters,
        // the local plain one does not, so the broker runs without it and says how to move it.
        if (ports.tls === null || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        log.warn(
          { port: tcpPort, host: tcpHost },
          `plain MQTT port ${tcpPort} on ${tcpHost} is in use (another broker?): running without it; ` +
            'move it with --tcp-port N or turn it off with --tcp-port false',
        );
      }
    }
    if (options.wsPort !== undefined && options.wsPort !== false) {
      const { listenWebSocket } = await import('./websocket.ts');
      const ws = await listenWebSocket(aedes, options.wsPort, host);
      servers.push(ws.server);
      ports.ws = ws.port;
    }
  } catch (err) {
    for (const server of servers) server.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const { address, port } = err as { address?: string; port?: number };
      throw new ConfigError(`port ${port} on ${address} is already in use`, {
        hint: 'choose another --tls-port/--tcp-port/--ws-port, or stop the program using it',
      });
    }
    throw err;
  }
  return { ports, servers };
}

export function closeListeners(servers: Server[]): Promise<void>[] {
  return servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
}
