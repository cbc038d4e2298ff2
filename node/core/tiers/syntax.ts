/** The parse tree the tier classifier works on: every simple command of a line, flattened. */

export type Part =
  | { kind: 'lit'; text: string }
  | { kind: 'var'; name: string; text: string }
  | { kind: 'cmd'; inner: SimpleCommand[]; text: string }
  | { kind: 'arith'; text: string };

export interface Word {
  /** Value after quote removal; expansions appear as their source text ($HOME, $(...)). */
  text: string;
  parts: Part[];
  start: number;
  end: number;
  quoted: boolean;
  /** Contains an expansion whose value is unknown before it runs. */
  dynamic: boolean;
  /** Unquoted * ? [ : the shell may expand it into other words. */
  glob: boolean;
  /** Unquoted { : brace expansion may turn it into several words. */
  brace: boolean;
  /** The elements of an array assignment `name=(a b c)`. */
  array?: Word[];
}

export interface Redirect {
  op: string;
  target: Word | undefined;
  /** Body of a here-document or the word of a here-string. */
  body?: string;
}

export interface SimpleCommand {
  words: Word[];
  assigns: Word[];
  redirects: Redirect[];
  /** The text the offsets refer to (the line itself, or a backtick body). */
  source: string;
  start: number;
  end: number;
  /** Offsets refer to the line given to classify(), so a word can be replaced in place. */
  topLevel: boolean;
  /** Reads stdin from the previous stage of a pipeline. */
  piped: boolean;
  /** The pipeline this command is a stage of (itself alone when not piped). */
  pipeline: SimpleCommand[];
  background: boolean;
  /** Index of this command in its pipeline (0 when not piped). */
  stage: number;
}

export interface FunctionDef {
  name: string;
  /** The definition as written, `:(){ :|:& }`. */
  text: string;
  body: SimpleCommand[];
}

export interface Script {
  commands: SimpleCommand[];
  functions: FunctionDef[];
  /** An unterminated quote, substitution or group: the shell would wait for more input. */
  incomplete: boolean;
}

export function commandText(cmd: SimpleCommand): string {
  return cmd.source.slice(cmd.start, cmd.end).trim();
}
