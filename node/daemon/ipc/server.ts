import { chmodSync, existsSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { errorLine } from '../../../schemas/errors.ts';
import { readJsonLines, writeJsonLine } from '../../ipc/lines.ts';
import type { IpcRequest, IpcResponse } from '../../ipc/protocol.ts';
import type { NodeDaemon } from '../daemon.ts';
import type { Logger } from '../logger.ts';
import type { Confirmer } from '../remote/confirm.ts';
import { acquireHomeLock } from './home-lock.ts';

/** How often the socket file is checked; a deleted or replaced one is made again within 2 s. */
const SOCKET_CHECK_MS = 500;

/** Ops served by features the daemon carries (history sync), handed in by start.ts. */
export type IpcOps = Partial<
  Record<IpcRequest['op'], (request: IpcRequest, send: (response: IpcResponse) => void) => Promise<void>>
>;

/**
 * The daemon's Unix socket ($ISAAC_HOME/node.sock, 0600): local shells send requests and get
 * streamed events back, plus every notification while they stay connected.
 */
export interface IpcServer {
  /** The listening server (a new one after the socket file was lost and made again). */
  readonly server: Server;
  /** Stops listening, drops every connected shell, removes the socket file and the home lock. */
  close(): Promise<void>;
}

/**
 * Serves the socket of the home it lives in, after taking that home's lock (a second daemon
 * refuses here, at once). A socket file that disappears is noticed and made again.
 */
export async function serveIpc(
  daemon: NodeDaemon,
  socketPath: string,
  log: Logger,
  ops: IpcOps = {},
): Promise<IpcServer> {
  const lock = acquireHomeLock(dirname(socketPath));
  const sockets = new Set<Socket>();
  const onClient = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handleClient(daemon, socket, log, ops);
  };
  let server: Server;
  let inode: number;
  try {
    await removeStaleSocket(socketPath);
    server = await listen(socketPath, onClient);
    inode = statSync(socketPath).ino;
  } catch (err) {
    lock.release();
    throw err;
  }
  let remaking = false;
  const watch = setInterval(() => {
    if (remaking || socketInode(socketPath) === inode) return;
    remaking = true;
    const lost = server;
    lost.close(); // shells already connected keep their connection
    if (existsSync(socketPath)) unlinkSync(socketPath);
    listen(socketPath, onClient).then(
      (made) => {
        server = made;
        inode = statSync(socketPath).ino;
        remaking = false;
        log.warn(`the local socket ${socketPath} was gone; made it again`);
      },
      (err: unknown) => {
        remaking = false;
        log.error(`cannot make the local socket ${socketPath} again: ${errorLine(err)}`);
      },
    );
  }, SOCKET_CHECK_MS);
  watch.unref();
  return {
    get server() {
      return server;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(watch);
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          lock.release();
          resolve();
        });
      }),
  };
}

function socketInode(socketPath: string): number | undefined {
  try {
    return statSync(socketPath).ino;
  } catch {
    return undefined;
  }
}

async function listen(socketPath: string, onClient: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onClient);
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(socketPath, 0o600);
  return server;
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

interface ShellConfirmer {
  confirmer: Confirmer;
  unregister: (() => void) | undefined;
}

function handleClient(daemon: NodeDaemon, socket: Socket, log: Logger, ops: IpcOps): void {
  const send = (response: IpcResponse) => writeJsonLine(socket, response);
  const cancels = new Map<number, () => void>();
  const unsubscribe = daemon.onNotification((n) => send({ event: 'notification', ...n }));
  // this shell answers tier-3 questions once it asks to (an interactive terminal)
  const shell: ShellConfirmer = {
    confirmer: {
      ask: (ask) => send({ event: 'confirm-ask', ask }),
      closed: (closed) => send({ event: 'confirm-closed', ...closed }),
    },
    unregister: undefined,
  };
  socket.on('close', () => {
    unsubscribe();
    shell.unregister?.();
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
      void (extra ? extra(request, send) : dispatch(daemon, request, send, cancels, shell)).catch(
        (err: unknown) => {
          send({ rid: request.rid, event: 'fail', message: errorLine(err) });
        },
      );
    },
    () => log.warn('ignored an unreadable line on the local socket'),
  );
}

async function dispatch(
  daemon: NodeDaemon,
  request: IpcRequest,
  send: (response: IpcResponse) => void,
  cancels: Map<number, () => void>,
  shell: ShellConfirmer,
): Promise<void> {
  const { rid } = request;
  switch (request.op) {
    case 'confirmer':
      shell.unregister ??= daemon.confirm.register(shell.confirmer);
      send({ rid, event: 'ok' });
      return;
    case 'confirm-answer':
      if (!daemon.confirm.answer(String(request.id), request.yes === true, shell.confirmer))
        throw new Error('that question is closed already (answered, timed out or withdrawn)');
      send({ rid, event: 'ok' });
      return;
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
      const { online, why, detail } = daemon.msg(String(request.target), String(request.text));
      send({
        rid,
        event: 'ok',
        online,
        queued: !online,
        ...(why ? { why } : {}),
        ...(detail ? { detail } : {}),
      });
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
