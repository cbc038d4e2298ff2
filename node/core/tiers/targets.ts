/**
 * What a path argument points at, for rules like "rm -r on the root filesystem". Paths are
 * normalised first (`//`, `/./`, `/usr/..` all mean `/`), relative ones against a `cd` earlier on
 * the same line when there was one. Classes: root (/, /*), home (~, $HOME, the user's own /home
 * directory), systemdir, device (whole disks and partitions), systemfile (accounts, sudoers,
 * fstab, /boot: overwriting one is catastrophic) and etc (other system files: /etc/*, /usr/bin/*,
 * /lib/*, /sys/*).
 */

export type TargetClass = 'root' | 'home' | 'systemdir' | 'device' | 'systemfile' | 'etc';

export const TARGET_CLASSES: readonly TargetClass[] = [
  'root',
  'home',
  'systemdir',
  'device',
  'systemfile',
  'etc',
];

const SYSTEM_DIRS = new Set([
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/usr',
  '/var',
  '/snap',
  '/Users',
  '/System',
  '/Library',
  '/Applications',
  '/private',
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib',
  '/usr/lib64',
  '/usr/local',
  '/usr/share',
  '/usr/include',
  '/var/lib',
  '/var/log',
  '/etc/ssh',
  '/etc/pam.d',
  '/etc/systemd',
]);

const DEVICE =
  /^\/dev\/(sd[a-z]+\d*|hd[a-z]+\d*|vd[a-z]+\d*|xvd[a-z]+\d*|nvme\d+n\d+(p\d+)?|nvme\d+|mmcblk\d+(p\d+)?|md\d+|md\/.+|dm-\d+|mapper\/.+|disk\/.+|sr\d+|r?disk\d+(s\d+)?|mem|kmem|port|nbd\d+(p\d+)?|zd\d+|bcache\d+)$/;

const SYSTEM_FILE =
  /^(\/etc\/(passwd|shadow|group|gshadow|sudoers|fstab|crypttab|login\.defs|inittab|ld\.so\.preload|ld\.so\.conf|master\.passwd)|\/etc\/(sudoers\.d|pam\.d|security)\/.+|\/boot\/.+|\/proc\/sysrq-trigger|\/dev\/(mem|kmem|port))$/;
/** Programs, libraries and kernel settings: changing one is risky (3), not catastrophic. */
const OTHER_SYSTEM_FILE = /^\/(etc|sys|(usr\/)?s?bin|(usr\/)?lib(32|64|x32)?)\/.+$/;

const HOME = (process.env['HOME'] ?? '').replace(/\/+$/, '');
const SELF = /^(\$USER|\$\{USER\}|\$LOGNAME|\$\{LOGNAME\}|\$\(whoami\)|`whoami`|\$\(id -un\))$/;
const HOME_PREFIX = /^(~[A-Za-z0-9_.-]*|\$HOME|\$\{HOME\})(?=\/|$)/;
const ONLY_GLOB_SEGMENT = /^[*?.[\]!]*$/;

/** Collapses `//`, `.` and `..`; keeps `~`/`$HOME` prefixes. Returns undefined for unknowable paths. */
export function normalizePath(raw: string, cwd: string | undefined): string | undefined {
  let path = raw;
  let prefix = '';
  const home = HOME_PREFIX.exec(path);
  if (home) {
    prefix = '~';
    path = path.slice(home[0].length);
  } else if (!path.startsWith('/')) {
    if (cwd === undefined) return undefined;
    if (cwd.startsWith('~')) {
      prefix = '~';
      path = `${cwd.slice(1)}/${path}`;
    } else path = `${cwd}/${path}`;
  }
  const out: string[] = [];
  let escaped = false;
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) escaped = prefix !== '';
      else out.pop();
      continue;
    }
    out.push(segment);
  }
  // `~/..` leaves the home directory for somewhere above it: as bad as the root for a delete.
  if (escaped) return `/${out.join('/')}`;
  return `${prefix}/${out.join('/')}`;
}

export function classifyTarget(raw: string, cwd: string | undefined): TargetClass | undefined {
  const path = normalizePath(raw, cwd);
  if (path === undefined) return undefined;
  if (path.startsWith('~')) {
    const rest = path.slice(1);
    if (rest === '/' || ONLY_GLOB_SEGMENT.test(rest.slice(1)) || /^\/\.?\*$/.test(rest)) return 'home';
    return undefined;
  }
  if (path === '/' || (path.indexOf('/', 1) < 0 && ONLY_GLOB_SEGMENT.test(path.slice(1)))) return 'root';
  if (DEVICE.test(path)) return 'device';
  if (SYSTEM_FILE.test(path)) return 'systemfile';
  const dir = path.endsWith('/*') ? path.slice(0, -2) : path;
  if (SYSTEM_DIRS.has(dir)) return 'systemdir';
  const user = /^\/(home|Users)\/([^/]+)\/?\*?$/.exec(path);
  // Someone else's home (an old account being cleaned up) is not this user's home.
  if (user && (`/${user[1]}/${user[2]}` === HOME || SELF.test(user[2]!))) return 'home';
  if (OTHER_SYSTEM_FILE.test(path)) return 'etc';
  return undefined;
}

/**
 * Files whose change alters what runs later or who may log in: shell startup and rc files,
 * keys, history, schedules, service units and other system files. `account` (passwd, shadow,
 * sudoers, ...) is catastrophic to overwrite; the others ask.
 */
export type SensitiveClass = 'account' | 'startup' | 'keys' | 'history' | 'schedule' | 'system';

const IN_HOME = /^(?:~|\/root|\/home\/[^/]+|\/Users\/[^/]+)\/(.+)$/;
const STARTUP_IN_HOME =
  /^(\.[\w.-]*rc|\.(bash_|z)?(profile|login|logout)|\.zshenv|\.bash_(aliases|functions)|\.pam_environment|\.x(initrc|session|profile|sessionrc)|\.gitconfig|\.config\/(git|autostart|fish|environment\.d|systemd|bash|zsh)(\/.*)?|\.local\/bin\/.+|\.(bashrc|profile|zshrc)\.d\/.+)$/;
const HISTORY_IN_HOME = /^(\.[\w.-]*_history|\.history|\.lesshst|\.local\/share\/fish\/fish_history)$/;
const KEYS_IN_HOME = /^(\.ssh|\.gnupg|\.aws|\.kube|\.docker|\.netrc|\.pgpass|\.git-credentials)(\/.*)?$/;
const SCHEDULE = /^\/(var\/spool\/cron|etc\/cron[\w.]*|etc\/anacrontab|var\/spool\/at)(\/.*)?$/;
const SYSTEM_STARTUP =
  /^\/(etc\/(profile|bash\.bashrc|bashrc|environment|zsh\/.+|profile\.d\/.+|rc\.local|init\.d\/.+|systemd\/.+|xdg\/autostart\/.+|ld\.so\.preload)|(usr\/)?lib\/systemd\/.+)$/;

export function sensitiveClass(raw: string, cwd: string | undefined): SensitiveClass | undefined {
  const normal = normalizePath(raw, cwd);
  if (normal === undefined) return undefined;
  const path = HOME && normal.startsWith(`${HOME}/`) ? `~${normal.slice(HOME.length)}` : normal;
  const home = IN_HOME.exec(path);
  if (home) {
    const rest = home[1]!;
    if (HISTORY_IN_HOME.test(rest)) return 'history';
    if (KEYS_IN_HOME.test(rest)) return 'keys';
    if (STARTUP_IN_HOME.test(rest)) return 'startup';
    return undefined;
  }
  if (SYSTEM_FILE.test(path)) return 'account';
  if (SCHEDULE.test(path)) return 'schedule';
  if (/^\/var\/log\/(wtmp|btmp|lastlog|auth\.log|secure|faillog|audit\/.+)$/.test(path)) return 'history';
  if (SYSTEM_STARTUP.test(path)) return 'startup';
  if (OTHER_SYSTEM_FILE.test(path) || path.startsWith('/etc/')) return 'system';
  return undefined;
}

const SENSITIVE_WORDS: Record<SensitiveClass, string> = {
  account: 'the account or boot file',
  startup: 'the startup file',
  keys: 'the key file',
  history: 'the history file',
  schedule: 'the scheduled-jobs file',
  system: 'the system file',
};

export function describeSensitive(cls: SensitiveClass, path: string): string {
  return `${SENSITIVE_WORDS[cls]} ${path}`;
}

/** Any path with a hidden segment (`~/.x`, `a/.git/hooks/x`): the remote policy never writes there. */
export function isHiddenPath(raw: string): boolean {
  return /(^|\/)\.[^./]/.test(raw) || /^~[^/]*$/.test(raw);
}
