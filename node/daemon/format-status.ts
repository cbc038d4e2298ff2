import type { NodeStatus } from '../ipc/protocol.ts';

/** `isaac-node status` and `/show status`: connection, broker, outbox depth, refusals by reason. */
export function formatNodeStatus(s: NodeStatus): string {
  const lines = [
    `machine:     ${s.name} (isaac-node ${s.version}, pid ${s.pid})`,
    `connection:  ${s.connected ? `connected to ${s.broker}` : `not connected${s.lastError ? ` (${s.lastError})` : ''}`}`,
    ...(s.login ? [`login:       ${s.login.line}`] : []),
    `brokers:     ${s.brokers.join(', ')}`,
    `outbox:      ${s.outbox} waiting${
      s.outbox > 0
        ? ` (${Object.entries(s.outboxByPeer)
            .map(([p, n]) => `${p}: ${n}`)
            .join(', ')})`
        : ''
    }`,
    `remote runs: ${s.runningExecs} running${
      s.confirmShells === undefined
        ? ''
        : `; ${s.confirmShells} isaac shell${s.confirmShells === 1 ? '' : 's'} open here to confirm tier 3`
    }`,
  ];
  const refusals = Object.entries(s.refusals);
  lines.push(
    `refusals:    ${refusals.length === 0 ? 'none' : refusals.map(([r, n]) => `${r} ${n}`).join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}
