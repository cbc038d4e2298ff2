import { hostname } from 'node:os';
import { isMachineName } from '../../../schemas/names.ts';

/** The hostname made into a valid machine name: what a machine is called before it has `machine.name`. */
export function defaultMachineName(host: string = hostname()): string {
  const cleaned = host
    .toLowerCase()
    .split('.')[0]!
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, 32);
  return isMachineName(cleaned) ? cleaned : 'localhost';
}

/** `machine.name` when it is set and valid, else the default: Store.machineName() without a store. */
export function machineNameFrom(configured: string | null | undefined): string {
  return configured && isMachineName(configured) ? configured : defaultMachineName();
}
