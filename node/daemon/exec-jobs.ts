import type { ExecResult, MessageBodies, MessageType } from '../../schemas/messages.ts';
import type { Store } from '../core/store/store.ts';
import { idHex, type OpenedEnvelope } from './bus/envelope-port.ts';
import { LoginEnvironment } from './remote/login-env.ts';
import { type Classifier, checkRemoteExec, remotePolicy } from './remote/policy.ts';
import { type RunningCommand, runRemoteCommand } from './remote/runner.ts';

export interface ExecJobsOptions {
  store: Store;
  classify: Classifier;
  send<K extends MessageType>(type: K, to: string, body: MessageBodies[K], corr: Uint8Array): void;
  log(line: string): void;
}

/**
 * Remote execs on this machine. `admit` runs inside the seen-id transaction and decides (the
 * refusal reply goes into the outbox in that same transaction); `start` runs after the commit.
 */
export class ExecJobs {
  private readonly admitted = new Set<string>();
  private readonly runningJobs = new Map<string, { from: string; run: RunningCommand }>();

  private readonly loginEnv = new LoginEnvironment();

  constructor(private readonly o: ExecJobsOptions) {
    void this.loginEnv.refresh();
  }

  admit(env: OpenedEnvelope): void {
    const body = env.body as MessageBodies['exec'];
    const refusal = checkRemoteExec(
      { from: env.from, cmd: body.cmd, exp: env.exp, now: Date.now() },
      remotePolicy(this.o.store),
      this.o.classify,
    );
    if (refusal) {
      this.o.log(`refused !exec from ${env.from}: ${refusal.reason}`);
      const result: ExecResult = { exit: 126, durationMs: 0, refused: refusal };
      this.o.send('exec-result', env.from, result, env.id);
      return;
    }
    this.admitted.add(idHex(env.id));
  }

  start(env: OpenedEnvelope): void {
    const key = idHex(env.id);
    if (!this.admitted.delete(key)) return;
    // the login environment is read once at start (and on `isaac-node reload`): wait for that read
    void this.loginEnv.ready().then(() => this.run(env, key));
  }

  private run(env: OpenedEnvelope, key: string): void {
    const body = env.body as MessageBodies['exec'];
    const policy = remotePolicy(this.o.store);
    const timeoutMs = Math.min(body.timeoutMs, policy.timeoutMs);
    let n = 0;
    const run = runRemoteCommand({
      cmd: body.cmd,
      timeoutMs,
      loginEnv: this.loginEnv.current(),
      onChunk: (stream, data) => {
        if (!body.stream) return;
        try {
          this.o.send('exec-chunk', env.from, { stream, data, n: n++ }, env.id);
        } catch (err) {
          this.o.log(`could not send output of a remote command to ${env.from}: ${String(err)}`);
        }
      },
    });
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
        this.o.log(`could not record a remote command in history: ${String(err)}`);
      }
      const result: ExecResult = { exit: outcome.exit, durationMs: outcome.durationMs, chunks: n };
      if (outcome.error) result.error = outcome.error;
      try {
        this.o.send('exec-result', env.from, result, env.id);
      } catch (err) {
        this.o.log(`could not send the result of a remote command to ${env.from}: ${String(err)}`);
      }
    });
  }

  /** Only the machine that asked may cancel. */
  cancel(from: string, corr: Uint8Array): void {
    const job = this.runningJobs.get(idHex(corr));
    if (job && job.from === from) job.run.cancel();
  }

  cancelAll(): void {
    for (const job of this.runningJobs.values()) job.run.cancel();
  }

  running(): number {
    return this.runningJobs.size;
  }
}
