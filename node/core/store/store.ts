import { AiHistoryRepo } from './ai-history.ts';
import { BrokerLoginRepo } from './broker-login.ts';
import { ConfigRepo } from './config.ts';
import { type Db, type OpenOptions, openDatabase } from './db.ts';
import { HistoryRepo } from './history.ts';
import { machineNameFrom } from './machine-name.ts';
import { MachinesRepo } from './machines.ts';
import { MessagesRepo } from './messages.ts';
import { OutboxRepo } from './outbox.ts';
import { PendingRepo } from './pending.ts';
import { SeenIdsRepo } from './seen-ids.ts';

/**
 * The store facade: one object per open database, with a repo per table family.
 * Other modules add their repos here rather than writing SQL against tables they do not own.
 */
export class Store {
  readonly config: ConfigRepo;
  readonly history: HistoryRepo;
  /** questions to the AI and their outcomes, every machine's (synced like `history`) */
  readonly aiHistory: AiHistoryRepo;
  readonly outbox: OutboxRepo;
  /** requests queued by a shell while no isaac-node ran, sealed by the daemon when it starts */
  readonly pending: PendingRepo;
  readonly seenIds: SeenIdsRepo;
  readonly messages: MessagesRepo;
  readonly machines: MachinesRepo;
  /** the broker's last refusal of this machine's login, until one is accepted */
  readonly brokerLogin: BrokerLoginRepo;

  constructor(
    readonly db: Db,
    readonly home: string,
  ) {
    this.config = new ConfigRepo(db);
    this.history = new HistoryRepo(db, () => this.machineName());
    this.aiHistory = new AiHistoryRepo(db, () => this.machineName());
    this.outbox = new OutboxRepo(db);
    this.pending = new PendingRepo(db);
    this.seenIds = new SeenIdsRepo(db);
    this.messages = new MessagesRepo(db);
    this.machines = new MachinesRepo(db);
    this.brokerLogin = new BrokerLoginRepo(db);
  }

  /** This machine's name: `machine.name`, else the hostname made into a valid machine name. */
  machineName(): string {
    return machineNameFrom(this.config.get('machine.name'));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openStore(home: string, options: Pick<OpenOptions, 'notice'> = {}): Store {
  return new Store(openDatabase(home, options), home);
}

export { defaultMachineName } from './machine-name.ts';
