import { errorLine, IsaacError, UsageError } from '../../schemas/errors.ts';
import { takeOptions } from '../core/args.ts';
import { readBrokerPasswordFile } from '../core/identity/settings.ts';
import { isaacHome } from '../core/paths.ts';
import { openStore } from '../core/store/store.ts';
import { connectNode, DAEMON_NOT_RUNNING } from '../ipc/client.ts';
import { formatNodeStatus } from './format-status.ts';
import { initNetwork, joinNetwork } from './identity/init.ts';
import { reloadLoginEnvironments } from './remote/login-env.ts';
import { startNode } from './start.ts';

const USAGE = `usage: isaac-node <command>
  init --broker URL[,URL...] --fingerprint SHA256 --setup-token T --name NAME [--insecure]
                  create the network on the first machine
  join CODE [--insecure]
                  join a network with an invite code from \`isaac invite NAME\`
  (init and join on Mosquitto or EMQX: --broker-password-file PATH instead of
   --setup-token; PATH holds the password the broker has for this machine)
  start [--log-level LEVEL]
                  run the node: MQTT session, outbox, remote exec, local socket
                  (LEVEL: trace, debug, info, warn, error, silent; config node.log_level)
  status          connection, broker, outbox depth, refusals by reason
  reload          read the login environment for remote commands again (or send SIGHUP)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const home = isaacHome();
  switch (command) {
    case 'init': {
      const { options, rest } = takeOptions(args, {
        broker: 'string',
        fingerprint: 'string',
        'setup-token': 'string',
        'broker-password-file': 'string',
        name: 'string',
        insecure: 'boolean',
      });
      if (rest.length > 0)
        throw new UsageError(`unexpected argument ${rest[0]}`, { hint: 'see isaac-node --help' });
      const need = (k: string) => {
        const v = options[k];
        if (typeof v !== 'string' || v === '')
          throw new UsageError(`--${k} is required`, { hint: USAGE.split('\n')[2]!.trim() });
        return v;
      };
      const passwordFile = options['broker-password-file'];
      const result = await initNetwork({
        home,
        brokers: need('broker').split(','),
        fingerprint: need('fingerprint'),
        ...(typeof passwordFile === 'string'
          ? { brokerPassword: readBrokerPasswordFile(passwordFile) }
          : { setupToken: need('setup-token') }),
        ...(typeof options['setup-token'] === 'string' ? { setupToken: options['setup-token'] } : {}),
        name: need('name'),
        insecure: options.insecure === true,
      });
      process.stdout.write(
        `created the network; this machine is ${result.name}\nnext: isaac-node start, then \`isaac invite NAME\` for each other machine\n`,
      );
      if (result.warning) process.stderr.write(`${result.warning}\n`);
      return 0;
    }
    case 'join': {
      const { options, rest } = takeOptions(args, {
        insecure: 'boolean',
        'broker-password-file': 'string',
      });
      const code = rest[0];
      if (!code || rest.length > 1)
        throw new UsageError('usage: isaac-node join CODE [--broker-password-file PATH]');
      const passwordFile = options['broker-password-file'];
      const result = await joinNetwork({
        home,
        code,
        insecure: options.insecure === true,
        ...(typeof passwordFile === 'string' ? { brokerPassword: readBrokerPasswordFile(passwordFile) } : {}),
      });
      process.stdout.write(
        `joined the network as ${result.name}\nnext: isaac-node start (or systemctl --user enable --now isaac-node)\n`,
      );
      if (result.warning) process.stderr.write(`${result.warning}\n`);
      return 0;
    }
    case 'start': {
      const { options, rest } = takeOptions(args, { 'log-level': 'string' });
      if (rest.length > 0)
        throw new UsageError(`unexpected argument ${rest[0]}`, { hint: 'see isaac-node --help' });
      const node = await startNode(home, { logLevel: options['log-level'] });
      const log = node.logger;
      log.info(`isaac-node ${node.me} started (pid ${process.pid}, socket in ${home})`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info(`${signal}: stopping`);
          void node.stop().then(resolve, resolve);
        };
        process.on('SIGHUP', () => {
          void reloadLoginEnvironments().then(() => log.info('SIGHUP: login environment read again'));
        });
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      return 0;
    }
    case 'reload': {
      const client = await connectNode(home);
      if (!client) {
        process.stderr.write(`${DAEMON_NOT_RUNNING}\n`);
        return 3;
      }
      try {
        process.kill((await client.nodeStatus()).pid, 'SIGHUP');
      } finally {
        client.close();
      }
      process.stdout.write('asked isaac-node to read the login environment again (for remote commands)\n');
      return 0;
    }
    case 'status': {
      const client = await connectNode(home);
      if (!client) {
        const store = openStore(home);
        try {
          process.stdout.write(
            `${DAEMON_NOT_RUNNING}\noutbox: ${store.outbox.count() + store.pending.count()} waiting\n`,
          );
        } finally {
          store.close();
        }
        return 3;
      }
      try {
        process.stdout.write(formatNodeStatus(await client.nodeStatus()));
      } finally {
        client.close();
      }
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${command}`, { hint: 'use init, join, start or status' });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`isaac-node: ${errorLine(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : err instanceof IsaacError ? 1 : 70);
  },
);
