import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SyncSummary } from '../../../node/ipc/client.ts';
import { machinesFrom } from '../../../node/shell/commands/query.ts';

const summary: SyncSummary = {
  connected: true,
  settled: true,
  force: false,
  durationMs: 5,
  peers: {
    desktop: { online: true, answered: true, sent: 0, received: 2 },
    nas2: { online: true, answered: true, sent: 0, received: 0 },
    pi: { online: false, answered: false, sent: 0, received: 0 },
  },
};

test('!query names the machines that matter for its filter: all of them, or only --machine M', () => {
  assert.deepEqual(machinesFrom(summary), { answered: ['desktop', 'nas2'], silent: [], offline: ['pi'] });
  assert.deepEqual(machinesFrom(summary, 'desktop'), { answered: ['desktop'], silent: [], offline: [] });
  assert.deepEqual(machinesFrom(summary, 'pi'), { answered: [], silent: [], offline: ['pi'] });
});
