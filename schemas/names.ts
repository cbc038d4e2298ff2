import { UsageError } from './errors.ts';

/** Machine names as DESIGN.md fixes them: they become topic levels and MQTT client ids. */
export const MACHINE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function isMachineName(value: unknown): value is string {
  return typeof value === 'string' && MACHINE_NAME_PATTERN.test(value);
}

export function assertMachineName(value: string): string {
  if (!isMachineName(value)) {
    throw new UsageError(`invalid machine name ${JSON.stringify(value)}`, {
      hint: 'use 1-32 characters of a-z, 0-9 and -, starting with a letter or digit',
    });
  }
  return value;
}
