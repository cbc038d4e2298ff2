import type { Db } from './db.ts';

export interface MachineRow {
  id: number;
  name: string;
  ip_address: string | null;
  last_seen: number | null;
  status: string;
  sign_pk: Uint8Array | null;
  box_pk: Uint8Array | null;
  version: string | null;
  hostname: string | null;
  os: string | null;
  added: number | null;
  revoked: number | null;
  /** the admin that revoked it, from the signed revoked entry (null if it did not say) */
  revoked_by: string | null;
  /** 1 when its verified roster entry says it is an admin (holds the network key) */
  admin: number;
}

/** What a user sees of a machine (/show machines, !status): the row without its keys. */
export interface MachineView {
  name: string;
  /** online | offline | unknown | revoked */
  state: string;
  lastSeen: number | null;
  address: string | null;
  version: string | null;
  hostname: string | null;
  os: string | null;
}

export function machineView(row: MachineRow): MachineView {
  return {
    name: row.name,
    state: row.status,
    lastSeen: row.last_seen,
    address: row.ip_address,
    version: row.version,
    hostname: row.hostname,
    os: row.os,
  };
}

export interface StatusUpdate {
  state: 'online' | 'offline';
  version?: string;
  hostname?: string;
  os?: string;
  address?: string;
  lastSeen?: number;
}

export interface RosterUpdate {
  name: string;
  signPk: Uint8Array;
  boxPk: Uint8Array;
  added: number;
  revoked?: number | null;
  revokedBy?: string | null;
  admin?: boolean;
}

/** The `machines` table, kept current from retained status topics and verified roster entries. */
export class MachinesRepo {
  constructor(private readonly db: Db) {}

  applyStatus(name: string, s: StatusUpdate): void {
    this.db
      .prepare(
        `INSERT INTO machines(name, status, version, hostname, os, ip_address, last_seen)
         VALUES (@name, @state, @version, @hostname, @os, @address, @lastSeen)
         ON CONFLICT(name) DO UPDATE SET
           status = CASE WHEN machines.revoked IS NOT NULL THEN 'revoked' ELSE excluded.status END,
           version = COALESCE(excluded.version, machines.version),
           hostname = COALESCE(excluded.hostname, machines.hostname),
           os = COALESCE(excluded.os, machines.os),
           ip_address = COALESCE(excluded.ip_address, machines.ip_address),
           last_seen = MAX(COALESCE(excluded.last_seen, 0), COALESCE(machines.last_seen, 0))`,
      )
      .run({
        name,
        state: s.state,
        version: s.version ?? null,
        hostname: s.hostname ?? null,
        os: s.os ?? null,
        address: s.address ?? null,
        lastSeen: s.lastSeen ?? null,
      });
  }

  applyRoster(r: RosterUpdate): void {
    this.db
      .prepare(
        `INSERT INTO machines(name, sign_pk, box_pk, added, revoked, revoked_by, admin, status)
         VALUES (@name, @signPk, @boxPk, @added, @revoked, @revokedBy, @admin, CASE WHEN @revoked IS NULL THEN 'unknown' ELSE 'revoked' END)
         ON CONFLICT(name) DO UPDATE SET sign_pk = excluded.sign_pk, box_pk = excluded.box_pk,
           added = excluded.added, revoked = excluded.revoked, revoked_by = excluded.revoked_by, admin = excluded.admin,
           status = CASE WHEN excluded.revoked IS NOT NULL THEN 'revoked'
                         WHEN machines.status = 'revoked' THEN 'unknown' ELSE machines.status END`,
      )
      .run({
        name: r.name,
        signPk: Buffer.from(r.signPk),
        boxPk: Buffer.from(r.boxPk),
        added: r.added,
        revoked: r.revoked ?? null,
        revokedBy: r.revoked == null ? null : (r.revokedBy ?? null),
        admin: r.admin === true ? 1 : 0,
      });
  }

  get(name: string): MachineRow | undefined {
    return this.db.prepare<[string], MachineRow>('SELECT * FROM machines WHERE name = ?').get(name);
  }

  list(): MachineRow[] {
    return this.db.prepare<[], MachineRow>('SELECT * FROM machines ORDER BY name').all();
  }

  /** Current admins (they hold the network key): the machines that can invite, revoke, rotate. */
  admins(): string[] {
    return this.members()
      .filter((m) => m.admin === 1)
      .map((m) => m.name);
  }

  /** Whether `name` is a current (unrevoked) admin in this machine's verified roster. */
  isAdmin(name: string): boolean {
    const row = this.get(name);
    return row !== undefined && row.admin === 1 && row.revoked === null && row.sign_pk !== null;
  }

  /** Members that may be addressed: in the roster (keys known) and not revoked. */
  members(): MachineRow[] {
    return this.list().filter((m) => m.box_pk !== null && m.revoked === null);
  }
}
