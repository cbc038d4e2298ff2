import { isaacVersion } from '../../../schemas/cli.ts';
import { ConfigError, UsageError } from '../../../schemas/errors.ts';
import { takeOptions } from '../../core/args.ts';
import { configSpec, maskSecret } from '../../core/store/config-keys.ts';
import { formatWhen, printTable } from './format.ts';
import { networkStatus, networkStatusRows } from './network-show.ts';
import type { CommandContext, SlashCommand } from './types.ts';

export const JSON_OPTION = { flag: '--json', help: 'print JSON instead of a table' } as const;

function json(ctx: CommandContext, value: unknown): number {
  ctx.io.out(`${JSON.stringify(value)}\n`);
  return 0;
}

const exit: SlashCommand = {
  name: 'exit',
  aliases: ['quit'],
  usage: '/exit',
  summary: 'leave Isaac',
  run() {
    // the router recognises /exit before dispatch; this entry exists for /help and completion
    return 0;
  },
};

const showConfig: SlashCommand = {
  name: 'show config',
  usage: '/show config',
  options: [JSON_OPTION],
  summary: 'configuration keys and values (API keys masked)',
  run(args, ctx) {
    const { options } = takeOptions(args, { json: 'boolean' });
    const entries = ctx.store.config
      .all()
      .map((e) => ({ ...e, value: e.secret ? maskSecret(e.value) : e.value }));
    if (!entries.some((e) => e.key === 'machine.name')) {
      // no stored default: the name comes from the host name, and it is the one in use
      entries.push({ key: 'machine.name', value: ctx.store.machineName(), isDefault: true, secret: false });
      entries.sort((x, y) => x.key.localeCompare(y.key));
    }
    if (options.json) return json(ctx, entries);
    printTable(
      ctx.io,
      ['key', 'value', ''],
      entries.map((e) => [e.key, e.value, e.isDefault ? '(default)' : '']),
    );
    return 0;
  },
};

const setConfig: SlashCommand = {
  name: 'set config',
  usage: '/set config KEY VALUE',
  summary: 'change a setting (validated; tier.<command> overrides a tier)',
  historyLine: ([key = '', ...value]) =>
    `/set config ${key} ${configSpec(key)?.secret ? '[REDACTED]' : value.join(' ')}`.trimEnd(),
  run(args, ctx) {
    const [key, ...valueParts] = args;
    if (!key || valueParts.length === 0) {
      throw new UsageError('usage: /set config KEY VALUE', { hint: 'see /show config for the keys' });
    }
    const stored = ctx.store.config.set(key, valueParts.join(' '));
    ctx.io.out(
      `${key} = ${ctx.store.config.all().find((e) => e.key === key)?.secret ? maskSecret(stored) : stored}\n`,
    );
    return 0;
  },
};

const unsetConfig: SlashCommand = {
  name: 'unset config',
  usage: '/unset config KEY',
  summary: 'return a setting to its default',
  run(args, ctx) {
    const [key] = args;
    if (!key) throw new UsageError('usage: /unset config KEY');
    if (!ctx.store.config.unset(key))
      throw new ConfigError(`${key} is not set`, { hint: 'see /show config' });
    ctx.io.out(`${key} reset to its default\n`);
    return 0;
  },
};

const showStatus: SlashCommand = {
  name: 'show status',
  usage: '/show status',
  options: [JSON_OPTION],
  summary: 'this machine: name, history, network connection, outbox, sync lag per peer',
  async run(args, ctx) {
    const { options } = takeOptions(args, { json: 'boolean' });
    const store = ctx.store;
    const local = {
      machine: store.machineName(),
      version: isaacVersion(),
      home: store.home,
      commands: store.history.count(),
      messages_unread: store.messages.unshown().length,
      ai_provider: store.config.string('ai.provider'),
    };
    const net = await networkStatus(ctx);
    if (options.json) return json(ctx, { ...local, ...net });
    printTable(
      ctx.io,
      ['', ''],
      [...Object.entries(local).map(([k, v]) => [k, String(v)]), ...networkStatusRows(net)],
    );
    return 0;
  },
};

const showMessages: SlashCommand = {
  name: 'show messages',
  usage: '/show messages [n]',
  options: [JSON_OPTION],
  summary: 'messages, late !exec results and AI answers',
  run(args, ctx) {
    const { options, rest } = takeOptions(args, { json: 'boolean' });
    const limit = rest[0] === undefined ? 50 : Number(rest[0]);
    if (!Number.isInteger(limit) || limit <= 0)
      throw new UsageError('usage: /show messages [n]', { hint: 'n is a positive number' });
    const rows = ctx.store.messages.recent(limit);
    ctx.store.messages.markShown(rows.map((r) => r.id));
    if (options.json) {
      return json(
        ctx,
        rows.map(({ envelope_id: _e, ...r }) => r),
      );
    }
    if (rows.length === 0) {
      ctx.io.out('no messages\n');
      return 0;
    }
    printTable(
      ctx.io,
      ['when', 'from/to', 'kind', 'text'],
      rows.map((r) => [formatWhen(r.ts), `${r.direction === 'in' ? '<' : '>'} ${r.peer}`, r.kind, r.body]),
    );
    return 0;
  },
};

const clearHistory: SlashCommand = {
  name: 'clear history',
  usage: '/clear history',
  options: [{ flag: '--all', help: 'every machine’s records held here, not only this one’s' }],
  summary: 'delete this machine’s history here (asks first)',
  historyLine: () => undefined,
  async run(args, ctx) {
    const { options } = takeOptions(args, { all: 'boolean' });
    const store = ctx.store;
    const scope = options.all
      ? 'every command held here (all machines)'
      : `this machine’s commands (${store.machineName()})`;
    if (!(await ctx.io.confirm(`Delete ${scope}? This cannot be undone.`))) {
      ctx.io.out('nothing deleted\n');
      return 1;
    }
    const who = store.machineName();
    const removed = options.all ? store.history.clearAll(who) : store.history.clearOwn(who);
    ctx.io.out(`deleted ${removed} command${removed === 1 ? '' : 's'}\n`);
    return 0;
  },
};

export const CORE_COMMANDS: SlashCommand[] = [
  exit,
  showConfig,
  setConfig,
  unsetConfig,
  showStatus,
  showMessages,
  clearHistory,
];
