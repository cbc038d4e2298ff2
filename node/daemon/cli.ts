import { commandLine, EXIT, runProgram } from '../../schemas/cli.ts';
import { UsageError } from '../../schemas/errors.ts';
import { isaacHome } from '../core/paths.ts';

// each command loads what it needs (the daemon, MQTT, SQLite), so --help and --version start quickly

const COMMANDS = ['init', 'join', 'start', 'status', 'reload'];

async function init(o: {
  broker: string;
  fingerprint: string;
  setupToken: string | undefined;
  brokerPasswordFile: string | undefined;
  name: string;
  insecure: boolean;
}): Promise<number> {
  const { initNetwork } = await import('./identity/init.ts');
  const { readBrokerPasswordFile } = await import('../core/identity/settings.ts');
  if (o.setupToken === undefined && o.brokerPasswordFile === undefined)
    throw new UsageError('--setup-token is required (or --broker-password-file PATH on Mosquitto or EMQX)', {
      hint: 'see isaac-node init --help',
    });
  const result = await initNetwork({
    home: isaacHome(),
    brokers: o.broker.split(','),
    fingerprint: o.fingerprint,
    ...(o.setupToken === undefined ? {} : { setupToken: o.setupToken }),
    ...(o.brokerPasswordFile === undefined
      ? {}
      : { brokerPassword: readBrokerPasswordFile(o.brokerPasswordFile) }),
    name: o.name,
    insecure: o.insecure,
  });
  process.stdout.write(
    `created the network; this machine is ${result.name}\nnext: isaac-node start, then \`isaac invite NAME\` for each other machine\n`,
  );
  if (result.warning) process.stderr.write(`${result.warning}\n`);
  return EXIT.ok;
}

async function join(
  code: string,
  insecure: boolean,
  brokerPasswordFile: string | undefined,
): Promise<number> {
  const { joinNetwork } = await import('./identity/init.ts');
  const { readBrokerPasswordFile } = await import('../core/identity/settings.ts');
  const result = await joinNetwork({
    home: isaacHome(),
    code,
    insecure,
    ...(brokerPasswordFile === undefined
      ? {}
      : { brokerPassword: readBrokerPasswordFile(brokerPasswordFile) }),
  });
  process.stdout.write(
    `joined the network as ${result.name}\nnext: isaac-node start (or systemctl --user enable --now isaac-node)\n`,
  );
  if (result.warning) process.stderr.write(`${result.warning}\n`);
  return EXIT.ok;
}

async function start(logLevel: string | undefined): Promise<number> {
  const home = isaacHome();
  const { startNode } = await import('./start.ts');
  const { reloadLoginEnvironments } = await import('./remote/login-env.ts');
  const node = await startNode(home, { logLevel });
  const log = node.logger;
  log.info(`isaac-node ${node.me} started (pid ${process.pid}, socket in ${home})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: stopping`);
      void node.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      void reloadLoginEnvironments().then(() => log.info('SIGHUP: login environment read again'));
    });
  });
  return EXIT.ok;
}

async function reload(): Promise<number> {
  const { connectNode, DAEMON_NOT_RUNNING } = await import('../ipc/client.ts');
  const client = await connectNode(isaacHome());
  if (!client) {
    process.stderr.write(`${DAEMON_NOT_RUNNING}\n`);
    return EXIT.notRunning;
  }
  try {
    process.kill((await client.nodeStatus()).pid, 'SIGHUP');
  } finally {
    client.close();
  }
  process.stdout.write('asked isaac-node to read the login environment again (for remote commands)\n');
  return EXIT.ok;
}

async function status(): Promise<number> {
  const home = isaacHome();
  const { connectNode, DAEMON_NOT_RUNNING } = await import('../ipc/client.ts');
  const client = await connectNode(home);
  if (!client) {
    const { openStore } = await import('../core/store/store.ts');
    const { loginProblem } = await import('../core/identity/login-status.ts');
    const store = openStore(home);
    try {
      const login = loginProblem(store);
      process.stdout.write(
        `${DAEMON_NOT_RUNNING}\n${login ? `login: ${login.line}\n` : ''}outbox: ${store.outbox.count() + store.pending.count()} waiting\n`,
      );
    } finally {
      store.close();
    }
    return EXIT.notRunning;
  }
  try {
    const { formatNodeStatus } = await import('./format-status.ts');
    process.stdout.write(formatNodeStatus(await client.nodeStatus()));
  } finally {
    client.close();
  }
  return EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  let exitStatus: number = EXIT.ok;
  const parser = await commandLine('isaac-node', argv, COMMANDS);
  await parser
    .usage(
      '$0 <command>\n\nThe Isaac node: this machine’s MQTT session, outbox, remote exec and local socket.',
    )
    .command(
      'init',
      'create the network on the first machine',
      (y) =>
        y
          .option('broker', {
            type: 'string',
            requiresArg: true,
            demandOption: true,
            describe: 'broker URL(s), comma-separated: mqtts://nas:8883[,mqtts://nas2:8883]',
          })
          .option('fingerprint', {
            type: 'string',
            requiresArg: true,
            demandOption: true,
            describe: 'the broker certificate’s fingerprint (sha256:...) that `isaac-broker init` printed',
          })
          .option('setup-token', {
            type: 'string',
            requiresArg: true,
            describe: 'the one-time setup token that `isaac-broker init` printed',
          })
          .option('broker-password-file', {
            type: 'string',
            requiresArg: true,
            describe:
              'on Mosquitto or EMQX instead of --setup-token: a file holding this machine’s broker password',
          })
          .option('name', {
            type: 'string',
            requiresArg: true,
            demandOption: true,
            describe: 'this machine’s name: 1-32 of a-z, 0-9 and -',
          })
          .option('insecure', {
            type: 'boolean',
            default: false,
            describe: 'allow plain MQTT to a non-loopback broker',
          }),
      async (a) => {
        exitStatus = await init({ ...a, brokerPasswordFile: a.brokerPasswordFile });
      },
    )
    .command(
      'join <code>',
      'join a network with an invite code from `isaac invite NAME`',
      (y) =>
        y
          .positional('code', {
            type: 'string',
            demandOption: true,
            describe: 'the invite code (isaac1-...)',
          })
          .option('broker-password-file', {
            type: 'string',
            requiresArg: true,
            describe: 'on Mosquitto or EMQX: a file holding this machine’s broker password',
          })
          .option('insecure', {
            type: 'boolean',
            default: false,
            describe: 'allow plain MQTT to a non-loopback broker',
          }),
      async (a) => {
        exitStatus = await join(a.code, a.insecure, a.brokerPasswordFile);
      },
    )
    .command(
      'start',
      'run the node: MQTT session, outbox, remote exec, local socket',
      (y) =>
        y.option('log-level', {
          type: 'string',
          requiresArg: true,
          describe: 'trace, debug, info, warn, error or silent (default: config node.log_level)',
        }),
      async (a) => {
        exitStatus = await start(a.logLevel);
      },
    )
    .command('status', 'connection, broker, outbox depth, refusals by reason', {}, async () => {
      exitStatus = await status();
    })
    .command(
      'reload',
      'read the login environment for remote commands again (or send SIGHUP)',
      {},
      async () => {
        exitStatus = await reload();
      },
    )
    .demandCommand(1, 'name a command: init, join, start, status or reload')
    .parseAsync();
  return exitStatus;
}

runProgram('isaac-node', () => main(process.argv.slice(2)));
