/**
 * Secret redaction, applied before anything is stored, synced or sent to an AI.
 * (Preliminary version; the full rule set lives here too once written.)
 */
export const REDACTED = '[REDACTED]';

const RULES: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\b(sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{16,})/g, REDACTED],
  [/\b(gh[pousr]_[A-Za-z0-9]{20,})/g, REDACTED],
  [/\b(AKIA[0-9A-Z]{16})\b/g, REDACTED],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
