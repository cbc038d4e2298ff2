/** True when `text` holds a `*` or `?` wildcard. */
export function isGlob(text: string): boolean {
  return /[*?]/.test(text);
}

/** A glob (`*` any run of characters, `?` one) as an anchored RegExp over the whole text. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}
