import type { ExecJobs } from '../exec-jobs.ts';
import type { Handler } from './types.ts';

/** Ctrl-C on the sender: its running command's process group is signalled (only the sender may). */
export function execCancelHandler(d: { jobs: ExecJobs }): Handler<'exec-cancel'> {
  return {
    after(env) {
      if (env.corr) d.jobs.cancel(env.from, env.corr);
    },
  };
}
