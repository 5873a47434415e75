/** `beeline operator`: the cluster-wide operator (started by the lab, one per cluster; a Deployment in Kubernetes). */
import { Command } from 'commander';
import { parseDuration } from '../common/duration.js';
import { UsageError } from '../common/errors.js';
import { Operator } from '../operator/operator.js';
import { untilSignal } from '../common/signal.js';

interface OperatorFlags {
  kvstore?: string;
  k8sKubeconfig?: string;
  identityGcGrace: string;
  identityGcInterval: string;
  clusterPoolCidr?: string;
  clusterPoolMaskSize?: string;
  meshCaKeyFile?: string;
  meshTrustDomain?: string;
}

export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description('run the cluster-wide operator: garbage-collects unused security identities; in Kubernetes mode also hands out pod CIDRs (cluster pool) and removes the state of deleted nodes (started by lab up)')
    .option('--kvstore <endpoint>', 'kvstore mode: etcd client endpoint, e.g. unix:///run/beeline/labs/demo/etcd/etcd.sock:2379')
    .option('--k8s-kubeconfig <file>', "Kubernetes mode: the kubeconfig, or 'in-cluster' (the pod's service account)")
    .option('--identity-gc-grace <duration>', 'how long an identity stays unreferenced before it is deleted', '15s')
    .option('--identity-gc-interval <duration>', 'how often unused identities are looked for', '5s')
    .option('--cluster-pool-cidr <cidr>', 'Kubernetes mode: the pool BeelineNodes get their pod CIDRs from, e.g. 10.0.0.0/8 (none handed out without it)')
    .option('--cluster-pool-mask-size <bits>', "Kubernetes mode: each node's block of the pool", '24')
    .option('--mesh-ca-key-file <file>', 'run the mesh CA (mutual TLS between node proxies): the 32-byte key (mode 0600) that encrypts its private key at rest; it signs the agents\' certificate requests')
    .option('--mesh-trust-domain <domain>', 'the mesh SPIFFE trust domain', 'cluster.local')
    .action(async (o: OperatorFlags) => {
      const mask = Number(o.clusterPoolMaskSize);
      if (!Number.isInteger(mask)) throw new UsageError(`--cluster-pool-mask-size: '${o.clusterPoolMaskSize}' is not a whole number`);
      const op = new Operator({
        kvstore: o.kvstore,
        k8sKubeconfig: o.k8sKubeconfig,
        identityGcGraceMs: parseDuration(o.identityGcGrace, '--identity-gc-grace'),
        identityGcIntervalMs: parseDuration(o.identityGcInterval, '--identity-gc-interval'),
        clusterPoolCIDR: o.clusterPoolCidr,
        clusterPoolMaskSize: mask,
        meshCaKeyFile: o.meshCaKeyFile,
        meshTrustDomain: o.meshTrustDomain,
      });
      await op.start();
      await untilSignal();
      await op.stop();
    });
}
