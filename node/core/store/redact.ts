/**
 * Secret redaction, applied before anything is stored, synced or sent to an AI.
 *
 * Only the secret itself is replaced by [REDACTED]; the command around it stays readable
 * (`mysql -u root -p[REDACTED] db`, `https://admin:[REDACTED]@db.local`). Erring towards
 * redacting a harmless word is acceptable, letting a secret through is not.
 *
 * Speed matters (every command, every output, million-line imports): a single cheap prefilter
 * decides whether any rule could apply, so ordinary commands cost one regex test.
 */
export const REDACTED = '[REDACTED]';

type Replacer = (match: string, ...groups: string[]) => string;
type Rule = readonly [RegExp, Replacer];

/** One shell word as a value: a quoted string, or unquoted characters with backslash escapes. */
const VALUE = String.raw`(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?:\\.|[^\s"'\\])+)`;
/** Same, for values inside a header or a quoted argument: stops at quotes. */
const BARE = String.raw`[^\s"'\\]+`;
/** A URL query value stops at the next parameter. */
const QUERY_VALUE = String.raw`[^\s"'&#]+`;

/** Names whose value is a secret: FOO_TOKEN, PGPASSWORD, client-secret, _authToken, api_key, ... */
const SECRET_NAME_TAIL = String.raw`(?:pass(?:word|wd|phrase)|secret|token|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|_key|[_-]pass|[_-]pwd|credentials?|_auth)`;
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*?${SECRET_NAME_TAIL}`;
/** Flag names (with their dashes) whose argument is a secret: --password, -storepass, --api-key. */
const SECRET_FLAG = String.raw`-{1,2}(?!no-)[A-Za-z0-9_.-]*?(?:pass(?:word|wd|phrase)?|secret|token|api-?key|access-key|secret-key|_pass|_pwd)`;

/** Not a literal secret: a variable or command substitution is kept so the command stays useful. */
function isReference(value: string): boolean {
  const inner = unquote(value);
  return /^\$(?:\{?[A-Za-z_][A-Za-z0-9_]*\}?|\()/.test(inner) || inner.startsWith(REDACTED) || inner === '';
}

function unquote(value: string): string {
  const first = value[0];
  if ((first === '"' || first === "'") && value.length >= 2 && value.endsWith(first))
    return value.slice(1, -1);
  return value;
}

/** Redacts a value, keeping its surrounding quotes. */
function hide(value: string): string {
  if (isReference(value)) return value;
  const first = value[0];
  if ((first === '"' || first === "'") && value.length >= 2 && value.endsWith(first))
    return first + REDACTED + first;
  return REDACTED;
}

const whole: Replacer = () => REDACTED;
/** Keeps group 1, hides group 2 (a replacer gets the offset next, so exactly two groups). */
const keepHideKeep: Replacer = (_m, before = '', value = '') => before + hide(value);

const r = (source: string, flags = 'g'): RegExp => new RegExp(source, flags);

/** Plain lowercase words ("authorization: handle expired tokens" in a commit message) are no credential. */
const isProse = (s: string): boolean => /^[a-z]+(?:[ ,.;!?-]+[a-z]+)*[ ,.;!?-]*$/.test(s.trim());

/** Random-looking: has a digit and a letter. Guards rules that would otherwise hit prose. */
const looksRandom = (s: string): boolean => /\d/.test(s) && /[A-Za-z]/.test(s);

/** Commands whose `-pSECRET` (attached) is a password. */
const ATTACHED_P = String.raw`(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|mysqlsh|mariadb(?:-dump|-admin|-import|-check)?|7z[arx]?|7za|7zr|u?nrar|rar)`;
/** Command position: start of line, after a separator, a wrapper, or a path. */
const CMD = String.raw`(?:^|[\s;|&(/])`;
/** Rest of the same simple command (up to a separator or newline). */
const SAME_CMD = String.raw`[^;|\n]{0,4096}?`;

const PROVIDER_TOKENS: readonly Rule[] = [
  // private key blocks keep their armour lines, lose everything between
  [
    /(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$(?![\s\S]))/g,
    (_m, begin = '', end = '') => `${begin}${REDACTED}${end}`,
  ],
  [/\bsk-ant-[A-Za-z0-9_-]{16,}/g, whole], // Anthropic
  [/\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, whole], // OpenAI
  [/\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g, whole], // Stripe secret / restricted
  [/\bwhsec_[A-Za-z0-9+/=]{16,}/g, whole], // Stripe webhook
  [/\bxai-[A-Za-z0-9_-]{20,}/g, whole], // xAI
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, whole], // GitHub
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, whole],
  [/\bgl(?:pat|ptt|dt|rt|soat|cbt)-[A-Za-z0-9_-]{16,}/g, whole], // GitLab
  [/\bxox[abprse]-[A-Za-z0-9-]{10,}/g, whole], // Slack
  [/\bxapp-\d-[A-Za-z0-9-]{10,}/g, whole],
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b/g, whole], // AWS key ids
  [/\bAIza[0-9A-Za-z_-]{30,}/g, whole], // Google
  [/\bnpm_[A-Za-z0-9]{30,}/g, whole], // npm
  [/\bdckr_pat_[A-Za-z0-9_-]{16,}/g, whole], // Docker Hub
  [/\bhf_[A-Za-z0-9]{20,}/g, whole], // Hugging Face
  [/\bpypi-[A-Za-z0-9_-]{40,}/g, whole], // PyPI
  [/\bgsk_[A-Za-z0-9]{20,}/g, whole], // Groq
  [/\bdop_v1_[a-f0-9]{40,}/g, whole], // DigitalOcean
  [/\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, whole], // SendGrid
  [/\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{20,}/g, whole], // Shopify
  [/\btskey-[A-Za-z0-9-]{16,}/g, whole], // Tailscale
  [/\bhv[sb]\.[A-Za-z0-9_-]{20,}/g, whole], // Vault
  [/\bAGE-SECRET-KEY-1[0-9A-Z]{20,}/g, whole], // age
  [/\blin_api_[A-Za-z0-9]{20,}/g, whole], // Linear
  [/\bsntrys_[A-Za-z0-9+/=_-]{20,}/g, whole], // Sentry
  [/\bPMAK-[a-f0-9]{20,}-[a-f0-9]{20,}/g, whole], // Postman
  [/\b\d{8,10}:AA[A-Za-z0-9_-]{30,}/g, whole], // Telegram bot
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, whole], // JWT
  [/(hooks\.slack\.com\/services\/[A-Z0-9]+\/[A-Z0-9]+\/)([A-Za-z0-9]+)/g, (_m, a = '') => a + REDACTED],
  [/(discord(?:app)?\.com\/api\/webhooks\/\d+\/)([A-Za-z0-9_-]+)/g, (_m, a = '') => a + REDACTED],
];

const CONTEXT_RULES: readonly Rule[] = [
  // scheme://user:pass@host -> keep user and host
  [
    /\b([a-z][a-z0-9+.-]{0,30}:\/\/[^\s:/@'"]{0,256}:)([^\s'"]{0,512}?)(@(?=[^\s/?#'"@]*(?:[/?#\s'"]|$)))/gim,
    (_m, a = '', pass = '', b = '') => (pass === '' || isReference(pass) ? _m : a + REDACTED + b),
  ],
  // Authorization / Proxy-Authorization headers (any case, also in git -c http.extraheader=...)
  [
    /\b((?:proxy-)?authorization\s*[:=]\s*(?:(?:bearer|basic|token|bot|digest|negotiate|aws4-hmac-sha256)\s+)?)([^\s"'\\]+)/gi,
    (m, a = '', v = '') => (isReference(v) || isProse(v) ? m : a + REDACTED),
  ],
  // other credential headers: X-Api-Key: v, Private-Token: v, X-Auth-Token: v, Cookie: v
  [
    /((?:^|["'\s])(?:x-[\w-]{0,64}?(?:key|token|secret|auth|password)[\w-]{0,64}|api-?key|private-token|[\w-]{1,64}-token|cookie)\s*:\s*)([^\n"']+)/gim,
    (m, a = '', v = '') => (isReference(v.trim()) || isProse(v) ? m : a + REDACTED),
  ],
  // a bare "Bearer <token>" anywhere
  [/\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi, (m, a = '', v = '') => (looksRandom(v) ? a + REDACTED : m)],
  // JSON / dict style: "password": "x", \"api_key\":\"x\"
  [
    r(String.raw`(\\?["']${SECRET_NAME}\\?["']\s*:\s*\\?["'])([^"'\\\n]+)`, 'gi'),
    (_m, a = '', v = '') => a + hide(v),
  ],
  // ?token=x&password=y in URLs: the value ends at the next parameter
  [r(String.raw`([?&;]${SECRET_NAME}=)(${QUERY_VALUE})`, 'gi'), keepHideKeep],
  // mount -o user=x,password=y,uid=0: the value ends at the next option
  [r(String.raw`(,${SECRET_NAME}=)([^\s,"']+)`, 'gi'), keepHideKeep],
  // NAME=value, export NAME=value, --password=value, -e DB_PASSWORD=value, --from-literal=token=x
  [r(String.raw`((?:^|[^A-Za-z0-9_.$-])(?:-{1,2})?${SECRET_NAME}=)(${VALUE})`, 'gim'), keepHideKeep],
  // kubectl create secret --from-literal=NAME=value: every literal is a secret
  [r(String.raw`(--from-literal[=\s]\s*[^=\s]+=)(${VALUE})`, 'g'), keepHideKeep],
  // --password value, --token value, -storepass value (a following flag is not a value)
  [r(String.raw`((?:^|[\s"'=])${SECRET_FLAG}\s+)(?!-|(?:pass|env|file|fd):)(${VALUE})`, 'gim'), keepHideKeep],
  // set -gx NAME value (fish), setenv NAME value (csh), config set NAME value (npm, aws, git, yarn)
  [
    r(
      String.raw`(\b(?:set(?:\s+-{1,2}[A-Za-z-]+)*|setenv|config(?:ure)?(?:\s+-{1,2}[A-Za-z-]+)*\s+set|config(?:\s+-{1,2}[A-Za-z-]+)+)\s+[A-Za-z0-9_./:@\${}-]*?(?:${SECRET_NAME_TAIL}|\.password|\.token|\.secret|authtoken)\s+)(?!-)(${VALUE})`,
      'gi',
    ),
    keepHideKeep,
  ],
  // gh secret set NAME --body VALUE
  [r(String.raw`(\bsecret\s+set\s+\S+\s+(?:-b\s*|--body[=\s]\s*))(${VALUE})`, 'g'), keepHideKeep],
  // YAML / config output at the start of a line: `  password: x`, `api_key: x`
  [
    /^([ \t]*[\w.-]*(?:password|passwd|passphrase|secret|token|api_?key|apikey|access_?key|secret_?key)\s*:[ \t]+)(\S[^\n]*?)[ \t]*$/gim,
    keepHideKeep,
  ],
  // a prompt announcing a secret anywhere on a line ("Enter passphrase: correct horse battery"):
  // everything after it on that line, spaces included (inside quotes: up to the quote)
  [
    /(\b(?:pass(?:word|wd|phrase)|passcode)\s*:[ \t]*)(?!\/\/)([^\s"'][^\n"']*?)(?=[ \t]*(?:$|["']))/gim,
    (m, a = '', v = '') => (isReference(v) ? m : a + REDACTED),
  ],
  // ~/.netrc lines: machine HOST login USER password SECRET
  [/^([ \t]*machine[ \t][^\n]*?\bpassword\s+)(\S+)/gm, keepHideKeep],
  // aws_secret_access_key / aws_session_token with any separator (aws configure set, ini lines)
  [/(\baws_(?:secret_access_key|session_token)\s*[=:\s]\s*)([^\s"']+)/gi, keepHideKeep],
  // mysql -pSECRET, 7z -pSECRET (only where an attached -p is a password; never mkdir -p)
  [r(String.raw`(${CMD}${ATTACHED_P}(?=\s)${SAME_CMD}\s-p)(${VALUE})`, 'gm'), attachedPassword],
  // curl -u user:pass, http -a user:pass: keep the user
  [
    r(
      String.raw`(${CMD}curl(?=\s)${SAME_CMD}\s(?:-u\s*|--user[=\s]\s*)["']?[^\s:"'/]*:)(?!//)(${BARE})`,
      'gm',
    ),
    keepHideKeep,
  ],
  [
    r(
      String.raw`(${CMD}(?:https?|xhs?)(?=\s)${SAME_CMD}\s(?:-a\s*|--auth[=\s]\s*)["']?[^\s:"'/]*:)(?!//)(${BARE})`,
      'gm',
    ),
    keepHideKeep,
  ],
  // smbclient -U user%pass
  [
    r(
      String.raw`(${CMD}(?:smbclient|rpcclient|smbmap|net)(?=\s)${SAME_CMD}\s(?:-U\s*|--user[=\s])[^\s%"']*%)(${BARE})`,
      'gm',
    ),
    keepHideKeep,
  ],
  // docker/podman/helm/az/oc login -p SECRET, sshpass -p SECRET, redis-cli -a SECRET, mongosh -p SECRET
  [
    r(
      String.raw`(${CMD}(?:(?:docker|podman|buildah|skopeo|nerdctl|helm|oras|crane|regctl|az|oc|cf)\s${SAME_CMD}\blogin\b${SAME_CMD}\s-p\s*|sshpass\s${SAME_CMD}-p\s*|sshpass\s+-p|redis-cli(?=\s)${SAME_CMD}\s-a\s+|(?:mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport)(?=\s)${SAME_CMD}\s-p\s+|(?:zip|unzip|sqlcmd|bcp)(?=\s)${SAME_CMD}\s-P\s+|ssh-keygen(?=\s)${SAME_CMD}\s-[NP]\s+|openssl(?=\s)${SAME_CMD}\s-k\s+))(?!-)(${VALUE})`,
      'gm',
    ),
    keepHideKeep,
  ],
  // openssl -pass pass:SECRET / -passin pass:SECRET
  [r(String.raw`(\s-pass(?:in|out)?\s+pass:)(${VALUE})`, 'g'), keepHideKeep],
  // nmcli ... password SECRET / wifi-sec.psk SECRET; wpa_passphrase SSID SECRET
  [
    r(
      String.raw`(${CMD}nmcli(?=\s)${SAME_CMD}\s(?:password|wifi-sec\.psk|802-1x\.password)\s+)(${VALUE})`,
      'gm',
    ),
    keepHideKeep,
  ],
  [r(String.raw`(${CMD}wpa_passphrase\s+${VALUE}\s+)(${VALUE})`, 'gm'), keepHideKeep],
  // htpasswd -b[c] [file] user SECRET
  [r(String.raw`(${CMD}htpasswd\s+(?:-\w+\s+)*-\w*b\w*\s+(?:-\w+\s+)*)([^;|&\n]+)`, 'gm'), htpasswdBatch],
  // echo SECRET | docker login --password-stdin / chpasswd / sudo -S / passwd --stdin
  [
    r(String.raw`(\b(?:echo|printf)\s+(?:-[neE]+\s+)*)(${VALUE})(\s*\|\s*[^;&\n]*)`, 'g'),
    (m, a = '', v = '', pipe = '') => (STDIN_SECRET.test(pipe) ? a + hide(v) + pipe : m),
  ],
  [
    r(String.raw`(^[^\n]*?<<<\s*)(${VALUE})`, 'gm'),
    (m, a = '', v = '') => (STDIN_SECRET.test(a) ? a + hide(v) : m),
  ],
];

const STDIN_SECRET =
  /--password-stdin|\bchpasswd\b|\bpasswd\s+--stdin|\bsudo\s+(?:-\S+\s+)*-S\b|--passphrase-fd/;

function attachedPassword(m: string, a = '', v = ''): string {
  if (v === '-' || v.startsWith('-')) return m; // rar -p- means "no password"
  return a + hide(v);
}

/** `htpasswd -b file user pass` / `htpasswd -nb user pass`: the last word is the password. */
function htpasswdBatch(m: string, a = '', rest = ''): string {
  const trimmed = rest.trimEnd();
  const words = trimmed.split(/\s+/);
  const needed = /-\w*n/.test(a) ? 2 : 3;
  if (words.length < needed) return m;
  const last = words.at(-1)!;
  return a + trimmed.slice(0, trimmed.length - last.length) + hide(last) + rest.slice(trimmed.length);
}

/**
 * Cheap gate: every rule needs one of these substrings. Case-insensitive, so it is a superset
 * of the (case-sensitive) provider prefixes.
 */
const PREFILTER =
  /sk[-_]|rk_|xai-|gh[pousr]_|github_pat|gl(?:pat|ptt|dt|rt|soat|cbt)-|xox|xapp-|AKIA|ASIA|AGPA|AIDA|AROA|ANPA|AIza|npm_|dckr_|hf_|pypi-|gsk_|dop_|SG\.|shp|tskey|hv[sb]\.|lin_api|sntrys|PMAK|:AA|eyJ|hooks\.slack|webhooks|pass|pwd|secret|token|key|credential|auth|cookie|bearer|whsec|login|literal|\bsudo\b|:\/\/|mysql|mariadb|7z|rar\b|sshpass|redis-cli|mongo|zip|sqlcmd|bcp|smb|\bnet\b|openssl|nmcli|htpasswd|curl|\bhttps?\s|\bxhs?\s/i;

/** Replaces every secret in `text` with [REDACTED], keeping the rest of the text as it was. */
export function redactSecrets(text: string): string {
  if (!PREFILTER.test(text)) return text;
  let out = text;
  for (const [pattern, replace] of PROVIDER_TOKENS) {
    if (pattern.test(out)) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, replace as (substring: string, ...args: unknown[]) => string);
    }
    pattern.lastIndex = 0;
  }
  for (const [pattern, replace] of CONTEXT_RULES) {
    out = out.replace(pattern, replace as (substring: string, ...args: unknown[]) => string);
  }
  return out;
}

/** Commands whose `-p VALUE` is a password (in output, where the value's quotes are gone). */
const P_PASSWORD_CMD =
  /\b(?:sshpass|mysql\w*|mariadb\S*|login|7z\w*|u?nrar|rar|redis-cli|mongo\w*|openssl)\b/;
/** In output a flag's value may have spaces: it runs to the next flag, separator or line end. */
const OUTPUT_FLAG_VALUE = r(
  String.raw`((?:^|[\s"'=])(?:${SECRET_FLAG}|-p)[ \t]+)(?!-)([^\n;|&]*?)(?=[ \t]+-|[ \t]*[;|&]|[ \t]*$)`,
  'gm',
);

/**
 * For command output (stored, synced, sent to an AI): the command-line rules, plus multi-word
 * secrets after a flag that announces one. On a command line the shell's quoting says where a
 * value ends (`--password "two words"`); printed output has lost the quotes, so the value runs
 * on to the next flag or the end of the line.
 */
export function redactOutput(text: string): string {
  const out = redactSecrets(text);
  if (!/pass|secret|token|key|-p\b/i.test(out)) return out;
  return out.replace(OUTPUT_FLAG_VALUE, (m, a: string, v: string, offset: number, whole: string) => {
    if (v === '' || /^\$/.test(v) || v === REDACTED) return m;
    if (/^[\s"'=]?-p[ \t]+$/.test(a)) {
      const lineStart = whole.lastIndexOf('\n', offset) + 1;
      if (!P_PASSWORD_CMD.test(whole.slice(lineStart, offset))) return m;
    }
    return a + REDACTED;
  });
}

/** True when redaction would change `text`. */
export function containsSecret(text: string): boolean {
  return redactSecrets(text) !== text;
}
