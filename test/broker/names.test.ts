import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import test from 'node:test';
import { createAdminRequest } from '../../schemas/admin.ts';
import { startTestBroker } from '../helpers/broker.ts';

test('broker: a machine named "roster" cannot be enrolled, even by a request signed with the network key', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha'] });
  const raw = createAdminRequest(
    { op: 'enroll', name: 'roster', secret: new Uint8Array(randomBytes(32)) },
    broker.networkKeys.secretKey,
  );
  assert.equal(await broker.admin(raw), 5);
  const line = broker.logs().find((l) => l.includes('admin request refused'));
  assert.ok(line, broker.logs().join('\n'));
  assert.match(line, /"reason":"admin-malformed"/);
  assert.match(line, /admin request for machine \\"roster\\": \\"roster\\" is a reserved topic level/);
  assert.equal(broker.running?.counters.refusalCount('admin-malformed'), 1);
  assert.equal((await broker.tryConnect('roster', { token: 'v1.1.a.b' })).code, 4);
  // alpha is unaffected
  (await broker.connect('alpha')).end(true);
});
