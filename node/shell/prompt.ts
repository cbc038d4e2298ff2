import { homedir } from 'node:os';

const BOLD_GREEN = '\x1b[1;32m';
const BOLD_BLUE = '\x1b[1;34m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

/** `machine:~/src$ `, with the last non-zero exit status shown in front. */
export function formatPrompt(machine: string, cwd: string, lastStatus: number, color = true): string {
  const home = homedir();
  const shown = cwd === home ? '~' : cwd.startsWith(`${home}/`) ? `~${cwd.slice(home.length)}` : cwd;
  const status = lastStatus === 0 ? '' : `[${lastStatus}] `;
  if (!color) return `${status}${machine}:${shown}$ `;
  return `${status ? `${RED}${status}${RESET}` : ''}${BOLD_GREEN}${machine}${RESET}:${BOLD_BLUE}${shown}${RESET}$ `;
}
