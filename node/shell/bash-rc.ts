/**
 * The rc file of Isaac's persistent bash. Bash runs interactive (aliases, job control, the user's
 * ~/.bashrc) but never reads commands from the terminal: PROMPT_COMMAND enters a loop that reads
 * NUL-terminated commands from fd 3 (a FIFO only Isaac writes), so nothing typed while a command
 * runs can ever reach bash as a command and skip the safety tiers. After each command it prints an
 * OSC marker with the exit status and cwd. If Ctrl-C aborts the loop, bash returns to its top
 * level, runs PROMPT_COMMAND again, reports 130 for the interrupted command and resumes.
 * After each command the aliases (`alias -p`) and function names (`declare -F`) go to
 * $ISAAC_NAMES_FILE (builtins only, no fork), so the tier check knows them: an alias is judged
 * by what it runs.
 * Bash makes the FIFO itself (in Isaac's private 0700 directory) and says so with a `pipe`
 * marker; Isaac then opens it and bash's own open returns. So the mkfifo runs beside Isaac's
 * start-up instead of before it.
 */
export const MARKER_PREFIX = '\x1b]6973;';
export const MARKER_END = '\x07';

export function bashRc(options: { sourceUserRc: boolean; nonce: string; quietTerminal?: boolean }): string {
  // Script and -c mode: no echo and no \n -> \r\n on the terminal, so output arrives as written.
  // stty and mkfifo run side by side (job control off meanwhile: no job notices, no process group
  // of their own for stty, which must change the terminal in the foreground).
  const stty = options.quietTerminal ? 'stty -echo -onlcr 2>/dev/null; ' : '';
  return `
${options.sourceUserRc ? '[ -r ~/.bashrc ] && . ~/.bashrc' : ''}
PS1=''; PS2=''; PS0=''
unset PROMPT_COMMAND
HISTFILE=/dev/null
__isaac_ret() { return "$1"; }
# aliases and functions, so the tier check does not "correct" a name this session defined
__isaac_names() { { alias -p; declare -F; } >"$ISAAC_NAMES_FILE" 2>/dev/null; }
__isaac_loop() {
  if [ -n "$__isaac_inflight" ]; then
    __isaac_inflight=
    __isaac_prev=130
    printf '\\033]6973;${options.nonce};done;%s;%s\\007' 130 "$PWD"
  fi
  __isaac_names
  printf '\\033]6973;${options.nonce};ready\\007'
  while IFS= read -r -d '' __isaac_cmd <&3; do
    __isaac_inflight=1
    if [ "\${__isaac_cmd:0:1}" = $'\\001' ]; then
      __isaac_ret "\${__isaac_prev:-0}"
      eval "\${__isaac_cmd:1}" </dev/null
    else
      __isaac_ret "\${__isaac_prev:-0}"
      eval "$__isaac_cmd"
    fi
    __isaac_prev=$?
    __isaac_names
    __isaac_inflight=
    printf '\\033]6973;${options.nonce};done;%s;%s\\007' "$__isaac_prev" "$PWD"
  done
  exit 0
}
case $- in *m*) __isaac_jobs=1 ;; *) __isaac_jobs= ;; esac
set +m
command mkfifo -m 600 "$ISAAC_CMD_FIFO" & ${stty}
if wait $!; then
  printf '\\033]6973;${options.nonce};pipe\\007'
else
  printf '\\033]6973;${options.nonce};nopipe\\007'
fi
[ -n "$__isaac_jobs" ] && set -m
unset __isaac_jobs
exec 3<"$ISAAC_CMD_FIFO"
PROMPT_COMMAND=__isaac_loop
`;
}
