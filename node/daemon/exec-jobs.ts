import { EXIT } from '../../schemas/cli.ts';
import { errorLine } from '../../schemas/errors.ts';
import type { ExecRefusal, ExecResult } from '../../schemas/messages.ts';
import type { Store } from '../core/store/store.ts';
import { idHex, type Opened } from './bus/envelope-port.ts';
import type { Enqueue } from './bus/sender.ts';
import type { Logger } from './logger.ts';
import type { RemoteConfirm } from './remote/confirm.ts';
import type { Classifier, RemoteDecision } from './remote/policy.ts';
import { remoteExecDecision, remotePolicy } from './remote/policy.ts';
import { type RunningCommand, runRemoteCommand } from './remote/runner.ts';

/** Replies (results, chunks) live long enough for a sender that is off for a week. */
export const REPLY_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** The exit status of a remote command that was refused (the shell's EXIT_REFUSED, 126). */
export const EXIT_REFUSED = EXIT.refused;
/** The exit status of a remote command its sender cancelled (Ctrl-C: 128 + SIGINT). */
export const EXIT_CANCELLED = EXIT.interrupted;
const EXPIRED: ExecRefusal = { reason: 'request expired before it could run', tier: 1 };
const CANCELLED: ExecRefusal = { reason: 'cancelled by the sender before it ran', tier: 1 };
/** A cancel that arrives before its exec (a resend after a reconnect) is kept this long. */
const EARLY_CANCEL_MS = 10 * 60 * 1000;
const MAX_EARLY_CANCELS = 1000;

/** The login environment remote commands run with (node/daemon/remote/login-env.ts). */
export interface LoginEnv {
  current(): Record<string, string> | undefined;
  refresh(): Promise<void>;
  /** Resolves once the read at start (or a reload in progress) is done. */
  ready?(): Promise<void>;
}

export interface ExecJobsOptions {
  store: Store;
  classify: Classifier;
  enqueue: Enqueue;
  /** asks the isaac shells here about tier-3 commands (absent: tier 3 is always refused) */
  confirm?: RemoteConfirm;
  loginEnv: LoginEnv;
  clock(): number;
  log: Logger;
}

/**
 * Remote execs on this machine. `admit` runs inside the seen-id transaction and decides (the
 * refusal reply goes into the outbox in that same transaction); `start` runs after the commit.
 */
export class ExecJobs {
  /** admitted inside the transaction; `confirm` set when it runs only after a yes typed here */
  private readonly admitted = new Map<string, { confirm?: { tier: number; reason: string } }>();
  /** tier-3 commands waiting for that yes: the sender's cancel withdraws the question */
  private readonly asking = new Map<string, { from: string; withdraw(reason: string): void }>();
  private readonly runningJobs = new Map<string, { from: string; run: RunningCommand }>();
  private readonly cancelledEarly = new Map<string, { from: string; until: number }>();

  constructor(private readonly o: ExecJobsOptions) {
    void o.loginEnv.refresh();
  }

  private reply(env: Opened<'exec'>, result: ExecResult): void {
    this.o.enqueue('exec-result', env.from, result, this.o.clock() + REPLY_TTL_MS, env.id);
  }

  private refuse(env: Opened<'exec'>, refusal: ExecRefusal): void {
    this.o.log.info(
      { from: env.from, reason: refusal.reason },
      `refused !exec from ${env.from}: ${refusal.reason}`,
    );
    this.reply(env, { exit: EXIT_REFUSED, durationMs: 0, refused: refusal });
  }

  /** Inside the transaction that records an expired exec: the sender hears why it never ran. */
  refuseExpired(env: Opened<'exec'>): void {
    this.refuse(env, EXPIRED);
  }

  admit(env: Opened<'exec'>): void {
    const key = idHex(env.id);
    const early = this.cancelledEarly.get(key);
    if (early && early.from === env.from) {
      this.cancelledEarly.delete(key);
      this.reply(env, { exit: EXIT_CANCELLED, durationMs: 0, refused: CANCELLED });
      return;
    }
    const decision = this.decide(env);
    if ('refuse' in decision) return this.refuse(env, decision.refuse);
    this.admitted.set(key, 'confirm' in decision ? { confirm: decision.confirm } : {});
  }

  private decide(env: Opened<'exec'>): RemoteDecision {
    return remoteExecDecision(
      { from: env.from, cmd: env.body.cmd },
      remotePolicy(this.o.store),
      this.o.classify,
    );
  }

  start(env: Opened<'exec'>): void {
    const key = idHex(env.id);
    const admitted = this.admitted.get(key);
    if (!admitted) return;
    this.admitted.delete(key);
    if (admitted.confirm) return this.askFirst(env, key, admitted.confirm);
    this.startAdmitted(env, key);
  }

  /**
   * Tier 3 within remote.max_tier: the isaac shells here are shown the sender and the exact
   * command; it runs only after a yes typed in one of them, and only if it would still be
   * admitted then. No shell, a no, the timeout or the sender's cancel: refused, with the reason.
   */
  private askFirst(env: Opened<'exec'>, key: string, confirm: { tier: number; reason: string }): void {
    const refuseAsked = (why: string) =>
      this.refuse(env, {
        reason: `tier ${confirm.tier} (${confirm.reason}) needs a yes typed here: ${why}`,
        tier: confirm.tier,
      });
    if (!this.o.confirm) return refuseAsked('no isaac shell can be asked on this machine');
    let timeoutMs: number;
    try {
      timeoutMs = this.o.store.config.number('remote.confirm_timeout') * 1000;
    } catch (err) {
      return refuseAsked(`remote.confirm_timeout is not valid: ${errorLine(err)}`);
    }
    const question = this.o.confirm.ask({
      from: env.from,
      cmd: env.body.cmd,
      tier: confirm.tier,
      reason: confirm.reason,
      timeoutMs,
    });
    this.asking.set(key, { from: env.from, withdraw: question.withdraw });
    if (env.body.stream && question.asked) {
      // the sender hears why nothing comes yet (chunk 0; the command's own output follows from 1)
      const note = `waiting up to ${Math.round(timeoutMs / 1000)} s for a yes typed in an isaac shell on this machine\n`;
      try {
        this.o.enqueue(
          'exec-chunk',
          env.from,
          { stream: 'stderr', data: note, n: 0 },
          this.o.clock() + REPLY_TTL_MS,
          env.id,
        );
      } catch (err) {
        this.o.log.warn(`could not tell ${env.from} that its command waits for a yes: ${errorLine(err)}`);
      }
    }
    this.o.log.info(
      { from: env.from, shells: this.o.confirm.shells },
      `asking the isaac shells here for a yes to a tier-3 !exec from ${env.from}`,
    );
    void question.outcome.then((outcome) => {
      this.asking.delete(key);
      if (!outcome.yes) return refuseAsked(outcome.reason);
      // the settings may have changed while the question waited: admitted as it is now, or not at all
      const now = this.decide(env);
      if ('refuse' in now) return this.refuse(env, now.refuse);
      this.o.log.info({ from: env.from }, `a yes was typed here for the tier-3 !exec from ${env.from}`);
      this.startAdmitted(env, key, 1);
    });
  }

  /** `firstChunk`: output chunks already sent for it (the note that it waits for a yes). */
  private startAdmitted(env: Opened<'exec'>, key: string, firstChunk = 0): void {
    // the login environment is read once at node start (and on `isaac-node reload`): wait for it
    const ready = this.o.loginEnv.ready?.();
    if (!ready) return this.run(env, key, firstChunk);
    void ready.then(() => {
      const early = this.cancelledEarly.get(key);
      if (early && early.from === env.from) {
        this.cancelledEarly.delete(key);
        this.reply(env, { exit: EXIT_CANCELLED, durationMs: 0, refused: CANCELLED });
      } else this.run(env, key, firstChunk);
    });
  }

  private run(env: Opened<'exec'>, key: string, firstChunk = 0): void {
    const body = env.body;
    const policy = remotePolicy(this.o.store);
    const timeoutMs = Math.min(body.timeoutMs, policy.timeoutMs);
    let n = firstChunk;
    const run = runRemoteCommand({
      cmd: body.cmd,
      timeoutMs,
      loginEnv: this.o.loginEnv.current(),
      onChunk: (stream, data) => {
        if (!body.stream) return;
        try {
          this.o.enqueue(
            'exec-chunk',
            env.from,
            { stream, data, n: n++ },
            this.o.clock() + REPLY_TTL_MS,
            env.id,
          );
        } catch (err) {
          this.o.log.warn(`could not send output of a remote command to ${env.from}: ${errorLine(err)}`);
        }
      },
    });
    this.o.log.info({ from: env.from, pid: run.pid }, `running !exec from ${env.from} (pid ${run.pid})`);
    this.runningJobs.set(key, { from: env.from, run });
    void run.done.then((outcome) => {
      this.runningJobs.delete(key);
      try {
        this.o.store.history.record({
          command: body.cmd,
          output: outcome.output,
          cwd: process.env.HOME ?? null,
          exit: outcome.exit,
          durationMs: outcome.durationMs,
          source: `remote:${env.from}`,
        });
      } catch (err) {
        this.o.log.warn(`could not record a remote command in history: ${errorLine(err)}`);
      }
      const result: ExecResult = { exit: outcome.exit, durationMs: outcome.durationMs, chunks: n };
      if (outcome.error) result.error = outcome.error;
      try {
        this.reply(env, result);
      } catch (err) {
        this.o.log.warn(`could not send the result of a remote command to ${env.from}: ${errorLine(err)}`);
      }
    });
  }

  /** Only the machine that asked may cancel; a cancel ahead of its exec stops it from running. */
  cancel(from: string, corr: Uint8Array): void {
    const key = idHex(corr);
    const asking = this.asking.get(key);
    if (asking && asking.from === from) return asking.withdraw('cancelled by the sender before it ran');
    const job = this.runningJobs.get(key);
    if (job) {
      if (job.from !== from) {
        this.o.log.warn(`ignored a cancel from ${from} for a command ${job.from} sent`);
        return;
      }
      this.o.log.info({ from }, `cancelling !exec from ${from}: signalling its process group`);
      job.run.cancel();
      return;
    }
    const now = this.o.clock();
    for (const [k, v] of this.cancelledEarly) if (v.until < now) this.cancelledEarly.delete(k);
    if (this.cancelledEarly.size >= MAX_EARLY_CANCELS) {
      const oldest = this.cancelledEarly.keys().next().value;
      if (oldest !== undefined) this.cancelledEarly.delete(oldest);
    }
    this.cancelledEarly.set(key, { from, until: now + EARLY_CANCEL_MS });
  }

  cancelAll(): void {
    for (const job of this.runningJobs.values()) job.run.cancel();
  }

  running(): number {
    return this.runningJobs.size;
  }
}
