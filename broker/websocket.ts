import { createServer, type Server } from 'node:http';
import type { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

/**
 * MQTT over WebSocket (opt-in, plain HTTP): for browsers/dashboards behind a TLS-terminating
 * proxy. Authentication and ACLs are the same as on the other listeners.
 */
export async function listenWebSocket(
  aedes: Aedes,
  port: number,
  host: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('MQTT over WebSocket only\n');
  });
  const wss = new WebSocketServer({ server, maxPayload: 16 * 1024 * 1024 });
  wss.on('connection', (socket, req) => {
    const stream = createWebSocketStream(socket);
    stream.on('error', () => undefined);
    aedes.handle(stream, req);
  });
  server.on('close', () => wss.close());
  return await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}
