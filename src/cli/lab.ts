/** `beeline lab …`: build, inspect, enter and remove one-machine clusters. */
import { proxyConfigFile, type NodeProxyConfig } from '../agent/proxy.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import type { AgentConfig } from '../agent/types.js';
import { repoRoot } from '../common/version.js';
import { parseDuration } from '../common/duration.js';
import { supervise } from '../lab/supervisor.js';
import { Kubelet, type KubeletConfig } from '../lab/kubelet.js';
import { Controllers } from '../lab/controllers.js';
import { untilSignal } from '../common/signal.js';
import { registerLabPod } from './labpod.js';
import { UsageError } from '../common/errors.js';
import { DEFAULT_MAGLEV_TABLE_SIZE, MAGLEV_TABLE_SIZES, checkMaglevTableSize } from '../service/maglev.js';
import { labDown, labEtcdStart, labEtcdStop, labExec, labStatus, labUp, type LabReport } from '../lab/lab.js';
import { DEFAULT_LAB, listLabs, readState, resolveLabName } from '../lab/state.js';
import { labOption } from './options.js';
import { WORLD_DNS_TTL_S, setWorldRecords } from '../lab/dns.js';
import { age, parseOutput, printStructured, table } from './output.js';

function labName(opts: { lab?: string; name?: string }): string {
  if (opts.lab && opts.name && opts.lab !== opts.name) throw new UsageError(`--lab ${opts.lab} and --name ${opts.name} disagree`);
  return resolveLabName(opts.lab ?? opts.name);
}

function printReport(r: LabReport): void {
  const since = Math.round((Date.now() - Date.parse(r.createdAt)) / 1000);
  process.stdout.write(`Lab:        ${r.name} (${r.phase}, ${r.healthy ? 'healthy' : 'NOT healthy'}, up ${age(since)})\n`);
  process.stdout.write(`Routing:    ${r.routing}\n`);
  process.stdout.write(`KVStore:    ${r.etcd.healthy ? `Ok   etcd ${r.etcd.version} at ${r.etcd.endpoint}` : `Unreachable ${r.etcd.message ?? (r.etcd.running ? '' : 'etcd not running')}`}\n`);
  process.stdout.write(`Operator:   ${r.operator.running ? `running (pid ${r.operator.pid})` : 'NOT running'}\n`);
  process.stdout.write(`Controllers: ${r.controllers.running ? `running (pid ${r.controllers.pid}): scheduler, deployments, endpointslices, DNS records` : 'NOT running'}\n`);
  process.stdout.write(`DNS:        ${r.dns.map((d) => `${d.name} ${d.running ? 'running' : 'NOT running'}`).join(', ')} (cluster DNS at ${r.clusterDNS})\n`);
  process.stdout.write(`Fabric:     ${r.fabric.netns} ${r.fabric.cidr}\n`);
  process.stdout.write(`World:      ${r.world.netns} ${r.world.ip}\n`);
  if (r.ui) process.stdout.write(`UI:         ${r.ui.running ? r.ui.url : `NOT running (was ${r.ui.url || 'starting'})`}\n`);
  process.stdout.write('\n');
  process.stdout.write(
    table(
      ['NODE', 'NAMESPACE', 'INTERNAL-IP', 'POD-CIDR', 'AGENT-PID', 'AGENT', 'KUBELET', 'DATAPATH'],
      r.nodes.map((n) => [
        n.name,
        n.netns,
        n.ip,
        n.podCIDR,
        n.agent.pid,
        n.agent.health + (n.agent.message ? ` (${n.agent.message})` : ''),
        n.kubelet.running ? 'running' : 'NOT running',
        n.agent.status ? `${n.agent.status.datapath.mode}, ${n.agent.status.datapath.attachments.length} attachments` : '-',
      ]),
    ),
  );
  const missing = r.namespaces.filter((n) => !n.present);
  if (missing.length) process.stdout.write(`\nMissing namespaces: ${missing.map((n) => n.name).join(', ')}\n`);
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('build and manage a whole cluster on this machine out of network namespaces');

  lab
    .command('up')
    .description('create a lab: fabric, nodes, outside world, etcd and a node agent per node')
    .option('--nodes <n>', 'number of nodes', '2')
    .option('--name <name>', 'lab name', process.env.BEELINE_LAB ?? DEFAULT_LAB)
    .addOption(labOption().hideHelp())
    .addOption(new Option('--routing <mode>', 'how pods reach other nodes').choices(['tunnel', 'native']).default('tunnel'))
    .addOption(new Option('--datapath <kind>', "bpf, or none: the same topology with plain routing (the benchmarks' floor)").choices(['bpf', 'none']).default('bpf'))
    .option('--identity-gc-grace <duration>', 'how long an unused security identity lives before the operator deletes it', '15s')
    .option('--datapath-resync-interval <duration>', "how often each agent compares its datapath maps with the model and repairs drift (0: never)", '30s')
    .option('--no-socket-lb', 'no socket-level load balancing: Services only through the packet-level path')
    .option('--crash-backoff <duration>', "the kubelets' first crash-loop back-off (Kubernetes: 10s), doubling to 5m", '10s')
    .option('--bpf-ct-global-max <n>', 'entries of each node\'s connection-tracking map (Cilium: bpf-ct-global-tcp-max)', '65536')
    .option('--bpf-lb-map-max <n>', 'entries of each node\'s load-balancing maps: frontend slots, backends, affinity, NAT (Cilium: bpf-lb-map-max)', '65536')
    .addOption(new Option('--bpf-lb-algorithm <algorithm>', 'backend selection of every Service without the service.cilium.io/lb-algorithm annotation').choices(['random', 'maglev']).default('random'))
    .option('--bpf-lb-maglev-table-size <m>', `slots of each Maglev table, a prime: ${MAGLEV_TABLE_SIZES.join(', ')}`, String(DEFAULT_MAGLEV_TABLE_SIZE))
    .option('--bpf-policy-map-max <n>', 'policy map entries one endpoint may have (Cilium: bpf-policy-map-max)', '16384')
    .addOption(new Option('--enable-policy <mode>', 'policy enforcement: default (when a policy selects the endpoint), always, never').choices(['default', 'always', 'never']).default('default'))
    .option('--policy-audit-mode', 'let through what policy would drop, and report it as audit')
    .option('--tofqdns-min-ttl <seconds>', 'keep addresses learned from DNS answers at least this long (Cilium: tofqdns-min-ttl)')
    .option('--hubble-event-buffer-capacity <n>', 'flows each node keeps in memory (Hubble: hubble-event-buffer-capacity); older ones are read from the flow history files', '4095')
    .option('--no-hubble', 'no flow observation on the nodes (no Observer API, flow metrics, flow history or relay); the datapath still emits events for `monitor`')
    .addOption(new Option('--monitor-aggregation <level>', 'datapath trace event aggregation').choices(['none', 'low', 'medium', 'maximum']).default('medium'))
    .option('-o, --output <format>', 'print the resulting status as json|yaml')
    .option('-q, --quiet', 'no progress lines')
    .action(async (o: { nodes: string; name: string; lab?: string; routing: 'tunnel' | 'native'; datapath: 'bpf' | 'none'; bpfCtGlobalMax: string; bpfLbMapMax: string; bpfLbAlgorithm: 'random' | 'maglev'; bpfLbMaglevTableSize: string; identityGcGrace: string; datapathResyncInterval: string; crashBackoff: string; socketLb: boolean; monitorAggregation: string; bpfPolicyMapMax: string; enablePolicy: 'default' | 'always' | 'never'; policyAuditMode?: boolean; tofqdnsMinTtl?: string; hubbleEventBufferCapacity: string; hubble: boolean; output?: string; quiet?: boolean }) => {
      const fmt = parseOutput(o.output);
      const nodes = Number(o.nodes);
      if (!/^\d+$/.test(o.nodes)) throw new UsageError(`--nodes ${o.nodes}: must be a whole number`);
      parseDuration(o.identityGcGrace, '--identity-gc-grace');
      const crashBackoff = parseDuration(o.crashBackoff, '--crash-backoff');
      const resyncIntervalMs = parseDuration(o.datapathResyncInterval, '--datapath-resync-interval');
      const ctMax = Number(o.bpfCtGlobalMax);
      if (!/^\d+$/.test(o.bpfCtGlobalMax) || ctMax < 1024 || ctMax > 16_777_216) {
        throw new UsageError(`--bpf-ct-global-max ${o.bpfCtGlobalMax}: must be a whole number from 1024 to 16777216`);
      }
      const name = o.lab ?? o.name;
      const lbMax = Number(o.bpfLbMapMax);
      if (!/^\d+$/.test(o.bpfLbMapMax) || lbMax < 16 || lbMax > 16_777_216) {
        throw new UsageError(`--bpf-lb-map-max ${o.bpfLbMapMax}: must be a whole number from 16 to 16777216`);
      }
      const maglevM = Number(o.bpfLbMaglevTableSize);
      try {
        checkMaglevTableSize(maglevM);
      } catch (e) {
        throw new UsageError(`--bpf-lb-maglev-table-size ${o.bpfLbMaglevTableSize}: ${(e as UsageError).message}`, (e as UsageError).hint);
      }
      const policyMax = Number(o.bpfPolicyMapMax);
      if (!/^\d+$/.test(o.bpfPolicyMapMax) || policyMax < 16 || policyMax > 1_048_576) {
        throw new UsageError(`--bpf-policy-map-max ${o.bpfPolicyMapMax}: must be a whole number from 16 to 1048576`);
      }
      const fqdnMinTtl = o.tofqdnsMinTtl === undefined ? undefined : Number(o.tofqdnsMinTtl);
      if (o.tofqdnsMinTtl !== undefined && (!/^\d+$/.test(o.tofqdnsMinTtl) || fqdnMinTtl! > 86_400)) {
        throw new UsageError(`--tofqdns-min-ttl ${o.tofqdnsMinTtl}: must be a whole number of seconds from 0 to 86400`);
      }
      const ringSize = Number(o.hubbleEventBufferCapacity);
      if (!/^\d+$/.test(o.hubbleEventBufferCapacity) || ringSize < 1 || ringSize > 1_048_576) {
        throw new UsageError(`--hubble-event-buffer-capacity ${o.hubbleEventBufferCapacity}: must be a whole number from 1 to 1048576`);
      }
      await labUp({ name, nodes, flowBufferCapacity: ringSize, routing: o.routing, datapath: o.datapath, ctMapSize: ctMax, lbMapSize: lbMax, maglevTableSize: maglevM, lbAlgorithm: o.bpfLbAlgorithm, identityGcGrace: o.identityGcGrace, resyncIntervalMs, crashBackoff, socketLB: o.socketLb, monitorAggregation: o.monitorAggregation, policyMapMax: policyMax, policyEnforcement: o.enablePolicy, policyAuditMode: !!o.policyAuditMode, ...(fqdnMinTtl !== undefined ? { fqdnMinTtl } : {}), hubble: o.hubble, quiet: !!o.quiet });
      const r = await labStatus(name);
      if (!printStructured(fmt, r)) printReport(r);
    });

  lab
    .command('down')
    .description('remove a lab and everything it made (namespaces, processes, cgroups, BPF pins, files)')
    .option('--name <name>', 'lab name')
    .addOption(labOption())
    .option('--all', 'remove every lab')
    .option('-q, --quiet', 'no progress lines')
    .action(async (o: { name?: string; lab?: string; all?: boolean; quiet?: boolean }) => {
      const names = o.all ? listLabs() : [labName(o)];
      for (const n of names) await labDown(n, { quiet: !!o.quiet });
    });

  lab
    .command('status')
    .description('report what a lab has and whether each node agent is healthy')
    .option('--name <name>', 'lab name')
    .addOption(labOption())
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: { name?: string; lab?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const r = await labStatus(labName(o));
      if (!printStructured(fmt, r)) printReport(r);
      if (!r.healthy) process.exitCode = 1;
    });

  lab
    .command('list')
    .alias('ls')
    .description('list the labs on this machine')
    .option('-o, --output <format>', 'json|yaml')
    .action((o: { output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const rows = listLabs().map((n) => {
        const s = readState(n)!;
        return { name: n, phase: s.phase, nodes: s.plan.nodes.length, routing: s.plan.routing, createdAt: s.createdAt };
      });
      if (printStructured(fmt, rows)) return;
      process.stdout.write(
        table(
          ['NAME', 'PHASE', 'NODES', 'ROUTING', 'AGE'],
          rows.map((r) => [r.name, r.phase, r.nodes, r.routing, age(Math.round((Date.now() - Date.parse(r.createdAt)) / 1000))]),
        ),
      );
    });

  lab
    .command('exec')
    .description("run a command inside a node's, the outside world's or the fabric's namespace")
    .argument('<target>', 'node name (node1, node2, …), world or fabric')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--name <name>', 'lab name')
    .addOption(labOption())
    .action(async (target: string, command: string[], o: { name?: string; lab?: string }) => {
      // With pass-through options commander keeps the `--` separator: it is not part of the command.
      const cmd = command[0] === '--' ? command.slice(1) : command;
      if (cmd.length === 0) throw new UsageError('lab exec: no command given', "usage: beeline lab exec NODE -- CMD [ARGS…]");
      process.exitCode = await labExec(labName(o), target, cmd);
    });

  registerLabPod(lab);

  const etcd = lab.command('etcd').description("stop or start the lab's etcd (to see how agents ride out a store outage)");
  for (const verb of ['stop', 'start'] as const) {
    etcd
      .command(verb)
      .description(verb === 'stop' ? 'stop the cluster store; agents keep the datapath as it is and report it unreachable' : 'start it again on the same data; agents resynchronise')
      .option('--name <name>', 'lab name')
      .addOption(labOption())
      .action(async (o: { name?: string; lab?: string }) => {
        const name = labName(o);
        await (verb === 'stop' ? labEtcdStop(name) : labEtcdStart(name));
        process.stdout.write(`lab ${name}: etcd ${verb === 'stop' ? 'stopped' : 'started'}\n`);
      });
  }

  const worldDns = lab.command('world-dns').description("the outside world's DNS (names FQDN tests resolve)");
  worldDns
    .command('set')
    .description(`give a world name these addresses (none: NXDOMAIN); returns once the world DNS answers them, with TTL ${WORLD_DNS_TTL_S}s`)
    .argument('<name>', 'the name, e.g. api.example.test')
    .argument('[ips]', 'IPv4 addresses, comma-separated, e.g. 172.18.0.200,172.18.0.201 (omitted: remove the name)')
    .option('--name <name>', 'lab name')
    .addOption(labOption())
    .action(async (fqdn: string, ips: string | undefined, o: { name?: string; lab?: string }) => {
      const list = (ips ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      await setWorldRecords(labName(o), fqdn, list);
      process.stdout.write(`${fqdn}: ${list.length ? list.join(', ') : 'removed (NXDOMAIN)'}\n`);
    });

  lab
    .command('supervise', { hidden: true })
    .description("run a node's agent (or, with --kubelet, its kubelet) and restart it when it dies (started by lab up inside the node namespace)")
    .requiredOption('--config <file>', 'agent (or kubelet) configuration')
    .option('--kubelet', 'supervise the kubelet')
    .option('--proxy', "supervise the node's L7 proxy (HAProxy)")
    .action(async (o: { config: string; kubelet?: boolean; proxy?: boolean }) => {
      const dir = dirname(o.config);
      if (o.proxy) {
        const p = JSON.parse(readFileSync(o.config, 'utf8')) as NodeProxyConfig & { node: string };
        // Master-worker: the master keeps the listeners across reloads (the agent asks for them on its CLI socket).
        await supervise({ role: 'proxy', name: p.node, cmd: ['haproxy', '-W', '-db', '-S', `${p.masterSocket},mode,600`, '-f', proxyConfigFile(p.stateDir)], log: join(dir, 'proxy.log'), pidFile: join(dir, 'proxy.pid') });
        return;
      }
      const role = o.kubelet ? 'kubelet' : 'agent';
      const name = o.kubelet ? (JSON.parse(readFileSync(o.config, 'utf8')) as KubeletConfig).node : (JSON.parse(readFileSync(o.config, 'utf8')) as AgentConfig).node;
      await supervise({
        role,
        name,
        // The agent decodes every datapath event into a flow that lives in its ring for a while: a larger young
        // generation lets those survive scavenges without being copied again and again (measured in bench/observer.ts).
        cmd: [process.execPath, '--enable-source-maps', ...(o.kubelet ? [] : ['--max-semi-space-size=64']), join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...(o.kubelet ? ['lab', 'kubelet'] : ['agent']), '--config', o.config],
        log: join(dir, `${role}.log`),
        pidFile: join(dir, `${role}.pid`),
      });
    });

  lab
    .command('kubelet', { hidden: true })
    .description("run a node's kubelet: pods bound to the node become sandboxes and processes (started by lab up)")
    .requiredOption('--config <file>', 'kubelet configuration')
    .action(async (o: { config: string }) => {
      const k = new Kubelet(JSON.parse(readFileSync(o.config, 'utf8')) as KubeletConfig);
      await k.start();
      await untilSignal();
      await k.stop();
    });

  lab
    .command('controllers', { hidden: true })
    .description('run the lab\'s scheduler, deployment, endpointslice and DNS-record controllers (started by lab up)')
    .requiredOption('--kvstore <endpoint>', 'etcd client endpoint')
    .requiredOption('--dns-hosts-dir <dir>', 'where the cluster DNS hosts file goes')
    .option('--lb-pool <cidr>', 'addresses for LoadBalancer Services (LB-IPAM)')
    .action(async (o: { kvstore: string; dnsHostsDir: string; lbPool?: string }) => {
      const c = new Controllers({ kvstore: o.kvstore, dnsHostsDir: o.dnsHostsDir, ...(o.lbPool ? { lbPool: o.lbPool } : {}) });
      await c.start();
      await untilSignal();
      await c.stop();
    });
}

