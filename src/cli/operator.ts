/** `beeline operator`: the cluster-wide operator (started by the lab, one per cluster). */
import { Command } from 'commander';
import { parseDuration } from '../common/duration.js';
import { Operator } from '../operator/operator.js';
import { untilSignal } from '../common/signal.js';

export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description('run the cluster-wide operator: garbage-collects unused security identities (started by lab up)')
    .requiredOption('--kvstore <endpoint>', 'etcd client endpoint, e.g. unix:///run/beeline/labs/demo/etcd/etcd.sock:2379')
    .option('--identity-gc-grace <duration>', 'how long an identity stays unreferenced before it is deleted', '15s')
    .option('--identity-gc-interval <duration>', 'how often unused identities are looked for', '5s')
    .action(async (o: { kvstore: string; identityGcGrace: string; identityGcInterval: string }) => {
      const op = new Operator({
        kvstore: o.kvstore,
        identityGcGraceMs: parseDuration(o.identityGcGrace, '--identity-gc-grace'),
        identityGcIntervalMs: parseDuration(o.identityGcInterval, '--identity-gc-interval'),
      });
      op.start();
      await untilSignal();
      op.stop();
    });
}
