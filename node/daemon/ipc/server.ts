import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { errorLine } from '../../../schemas/errors.ts';
import { readJsonLines, writeJsonLine } from '../../ipc/lines.ts';
import type { IpcRequest, IpcResponse } from '../../ipc/protocol.ts';
import type { NodeDaemon } from '../daemon.ts';
import type { Logger } from '../logger.ts';

/** Ops served by features the daemon carries (history sync), handed in by start.ts. */
export type IpcOps = Partial<
  Record<IpcRequest['op'], (request: IpcRequest, send: (response: IpcResponse) => void) => Promise<void>>
>;

/**
 * The daemon's Unix socket ($ISAAC_HOME/node.sock, 0600): local shells send requests and get
 * streamed events back, plus every notification while they stay connected.
 */
export interface IpcServer {
  server: Server;
  /** Stops listening, drops every connected shell and removes the socket file. */
  close(): Promise<void>;
}

export async function serveIpc(
  daemon: NodeDaemon,
  socketPath: string,
  log: Logger,
  ops: IpcOps = {},
): Promise<IpcServer> {
  await removeStaleSocket(socketPath);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handleClient(daemon, socket, log, ops);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const previous = process.umask(0o177);
    server.listen(socketPath, () => {
      process.umask(previous);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A socket file left by a daemon that died is removed; one that answers means we are a second daemon. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  if (!existsSync(socketPath)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another isaac-node is already running (socket ${socketPath} answers)`);
  unlinkSync(socketPath);
}

function handleClient(daemon: NodeDaemon, socket: Socket, log: Logger, ops: IpcOps): void {
  const send = (response: IpcResponse) => writeJsonLine(socket, response);
  const cancels = new Map<number, () => void>();
  const unsubscribe = daemon.onNotification((n) => send({ event: 'notification', ...n }));
  socket.on('close', () => {
    unsubscribe();
    // the shell went away mid-`!exec` (a second Ctrl-C, a closed terminal): nothing keeps running
    for (const cancel of cancels.values()) cancel();
    cancels.clear();
  });
  socket.on('error', () => {});
  readJsonLines(
    socket,
    (value) => {
      const request = value as IpcRequest;
      if (typeof request !== 'object' || request === null || typeof request.rid !== 'number') return;
      const extra = ops[request.op];
      void (extra ? extra(request, send) : dispatch(daemon, request, send, cancels)).catch((err: unknown) => {
        send({ rid: request.rid, event: 'fail', message: errorLine(err) });
      });
    },
    () => log.warn('ignored an unreadable line on the local socket'),
  );
}

async function dispatch(
  daemon: NodeDaemon,
  request: IpcRequest,
  send: (response: IpcResponse) => void,
  cancels: Map<number, () => void>,
): Promise<void> {
  const { rid } = request;
  switch (request.op) {
    case 'exec': {
      if (typeof request.cmd !== 'string' || typeof request.targets !== 'string')
        throw new Error('exec needs targets and cmd');
      // `done` may come before exec() returns (every target queued): then there is nothing to cancel
      let finished = false;
      const cancel = daemon.exec(
        request.targets,
        request.cmd,
        {
          ...(typeof request.timeoutMs === 'number' ? { timeoutMs: request.timeoutMs } : {}),
          ...(typeof request.ttlMs === 'number' ? { ttlMs: request.ttlMs } : {}),
        },
        (event) => {
          send({ rid, ...event });
          if (event.event !== 'done') return;
          finished = true;
          cancels.delete(rid);
        },
      );
      if (!finished) cancels.set(rid, cancel);
      return;
    }
    case 'cancel':
      cancels.get(request.execRid)?.();
      cancels.delete(request.execRid);
      send({ rid, event: 'ok' });
      return;
    case 'msg': {
      const { online } = daemon.msg(String(request.target), String(request.text));
      send({ rid, event: 'ok', online, queued: !online });
      return;
    }
    case 'status':
      send({ rid, event: 'status', status: await daemon.machineStatus(String(request.target)) });
      return;
    case 'node-status':
      send({ rid, event: 'node-status', status: daemon.nodeStatus() });
      return;
    default:
      throw new Error(`unknown request ${JSON.stringify((request as { op?: unknown }).op)}`);
  }
}
