import type { ExecJobs } from '../exec-jobs.ts';
import type { Handler } from './types.ts';

/**
 * `!exec` from another machine: admitted or refused under this machine's policy inside the
 * transaction (a refusal's reply is queued there too), started after the commit. An expired one
 * is answered "expired" and never runs.
 */
export function execHandler(d: { jobs: ExecJobs }): Handler<'exec'> {
  return {
    apply: (env) => d.jobs.admit(env),
    after: (env) => d.jobs.start(env),
    expired: (env) => d.jobs.refuseExpired(env),
  };
}
