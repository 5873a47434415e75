import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniError } from '../common/errors.js';
import { attachmentOfOwner, hostIfname, ipamOwner, labelsOf, parseCniArgs, parseInvocation, parseNetConf, podOf, requestedAddress, requestedMac, resultAddressesFor } from './config.js';
import { DEFAULT_AGENT_SOCKET } from './types.js';
import { mulberry32 } from '../../test/lib/rng.js';

const cniCode = (code: number, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof CniError, `not a CniError: ${String(e)}`);
  assert.equal(e.cniCode, code, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

const env = (over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'a1b2c3',
  CNI_NETNS: '/run/netns/pod',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
  ...over,
});

test('invocation: reads the CNI_* variables', () => {
  const inv = parseInvocation(env({ CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;;K8S_POD_INFRA_CONTAINER_ID=a1b2c3' }));
  assert.deepEqual(inv, {
    command: 'ADD',
    containerID: 'a1b2c3',
    netns: '/run/netns/pod',
    ifname: 'eth0',
    args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0', K8S_POD_INFRA_CONTAINER_ID: 'a1b2c3' },
    path: ['/opt/cni/bin', '/usr/lib/cni'],
  });
  assert.deepEqual(podOf(inv), { namespace: 'default', name: 'web-0' });
  // No Kubernetes namespace: the configured default one (else "default"), K8S_POD_NAME or the short container id.
  assert.deepEqual(podOf(parseInvocation(env())), { namespace: 'default', name: 'a1b2c3' });
  assert.deepEqual(podOf(parseInvocation(env({ CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=My-Box' })), { defaultNamespace: 'containers' }), { namespace: 'containers', name: 'my-box' });
  // podman's names: its generated ones (`jolly_darwin`) have `_`, read as `-`.
  assert.deepEqual(podOf(parseInvocation(env({ CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=jolly_Darwin' }))), { namespace: 'default', name: 'jolly-darwin' });
  assert.deepEqual(podOf(parseInvocation(env({ CNI_CONTAINERID: 'ABCDEF0123456789ff', CNI_ARGS: 'K8S_POD_NAME=_not_a_name' }))), { namespace: 'default', name: 'abcdef012345' });
  assert.equal(podOf(parseInvocation(env({ CNI_ARGS: 'K8S_POD_NAME=a..b' }))).name, 'a1b2c3', 'a name the agent would refuse is not used');
  // STATUS and GC name no attachment: CNI_CONTAINERID, CNI_IFNAME are not needed.
  assert.equal(parseInvocation({ CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }).command, 'STATUS');
  assert.equal(parseInvocation({ CNI_COMMAND: 'GC' }).command, 'GC');
  assert.equal(parseInvocation({ CNI_COMMAND: 'VERSION' }).command, 'VERSION', 'VERSION needs nothing else');
  // DEL may come without a netns (it is gone).
  assert.equal(parseInvocation(env({ CNI_COMMAND: 'DEL', CNI_NETNS: undefined })).netns, '');
});

test('invocation: missing or invalid variables are code 4 and named', () => {
  assert.throws(() => parseInvocation({}), cniCode(4, /CNI_COMMAND is not set/));
  assert.throws(() => parseInvocation(env({ CNI_COMMAND: 'INIT' })), cniCode(4, /CNI_COMMAND 'INIT' is not supported/));
  assert.throws(() => parseInvocation(env({ CNI_CONTAINERID: undefined, CNI_NETNS: '' })), cniCode(4, /variables CNI_CONTAINERID, CNI_NETNS not set/));
  assert.throws(() => parseInvocation(env({ CNI_COMMAND: 'CHECK', CNI_IFNAME: undefined })), cniCode(4, /variable CNI_IFNAME not set/));
  assert.throws(() => parseInvocation(env({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: undefined })), cniCode(4, /CNI_CONTAINERID/));
  assert.throws(() => parseInvocation(env({ CNI_CONTAINERID: '-abc' })), cniCode(4, /CNI_CONTAINERID '-abc' is invalid/));
  assert.throws(() => parseInvocation(env({ CNI_CONTAINERID: 'a b' })), cniCode(4));
  for (const bad of ['eth0123456789012', '.', '..', 'et/h0', 'eth:0', 'eth 0']) {
    assert.throws(() => parseInvocation(env({ CNI_IFNAME: bad })), cniCode(4, /CNI_IFNAME/), bad);
  }
  assert.throws(() => parseInvocation(env({ CNI_NETNS: 'run/netns/x' })), cniCode(4, /CNI_NETNS 'run\/netns\/x' is not an absolute path/));
  assert.throws(() => parseInvocation(env({ CNI_ARGS: 'K8S_POD_NAME' })), cniCode(4, /CNI_ARGS: 'K8S_POD_NAME' is not a KEY=VALUE pair/));
  assert.deepEqual(parseCniArgs('A=b=c;D='), { A: 'b=c', D: '' });
});

const conf = (over: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'beeline', type: 'beeline-cni', agentSocket: '/run/x/agent.sock', ...over });

test('network config: decodes, defaults the socket, keeps what the runtime adds', () => {
  const c = parseNetConf(conf({ mtu: 1450, dns: { nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local'] }, runtimeConfig: {}, 'cni.dev/x': 1 }), 'ADD');
  assert.equal(c.agentSocket, '/run/x/agent.sock');
  assert.equal(c.mtu, 1450);
  assert.deepEqual(c.dns, { nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local'] });
  assert.equal(parseNetConf(conf({ agentSocket: undefined }), 'ADD').agentSocket, DEFAULT_AGENT_SOCKET);
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0']) assert.equal(parseNetConf(conf({ cniVersion: v }), 'ADD').cniVersion, v);
  const labelled = parseNetConf(conf({ args: { cni: { labels: [{ key: 'app', value: 'web' }, { key: 'tier', value: '' }] } } }), 'ADD');
  assert.deepEqual(labelsOf(labelled), { app: 'web', tier: '' });
});

test('network config: each kind of bad input has its spec code', () => {
  assert.throws(() => parseNetConf('', 'ADD'), cniCode(6, /no network configuration/));
  assert.throws(() => parseNetConf('{"cniVersion": "1.0.0",', 'ADD'), cniCode(6, /not valid JSON/));
  assert.throws(() => parseNetConf('[1]', 'ADD'), cniCode(7, /JSON object/));
  assert.throws(() => parseNetConf(conf({ cniVersion: '1.2.0' }), 'ADD'), cniCode(1, /incompatible CNI version "1.2.0"/));
  assert.equal(parseNetConf(conf({ cniVersion: '1.1.0' }), 'ADD').cniVersion, '1.1.0');
  assert.throws(() => parseNetConf(conf({ defaultNamespace: 'Not_A_Namespace' }), 'ADD'), cniCode(7, /defaultNamespace "Not_A_Namespace"/));
  assert.throws(() => parseNetConf(conf({ runtimeConfig: { ips: '10.0.1.9/24' } }), 'ADD'), cniCode(7, /runtimeConfig.ips/));
  assert.throws(() => parseNetConf(conf({ args: { cni: { ips: [7] } } }), 'ADD'), cniCode(7, /args.cni.ips/));
  assert.throws(() => parseNetConf(conf(), 'GC'), cniCode(7, /GC needs cni.dev\/valid-attachments/));
  assert.throws(() => parseNetConf(conf({ 'cni.dev/valid-attachments': [{ containerID: 'x' }] }), 'GC'), cniCode(7, /valid-attachments\[0\]/));
  assert.deepEqual(parseNetConf(conf({ 'cni.dev/attachments': [{ containerID: 'x', ifname: 'eth0' }] }), 'GC').validAttachments, [{ containerID: 'x', ifname: 'eth0' }]);
  assert.throws(() => parseNetConf(conf({ cniVersion: '0.2.0' }), 'DEL'), cniCode(1));
  assert.throws(() => parseNetConf(conf({ cniVersion: undefined }), 'ADD'), cniCode(1, /no cniVersion/));
  assert.throws(() => parseNetConf(conf({ name: undefined }), 'ADD'), cniCode(7, /no name/));
  assert.throws(() => parseNetConf(conf({ name: '-x' }), 'ADD'), cniCode(7, /network name "-x" is invalid/));
  assert.throws(() => parseNetConf(conf({ type: '' }), 'ADD'), cniCode(7, /no type/));
  assert.throws(() => parseNetConf(conf({ agentSocket: 'agent.sock' }), 'ADD'), cniCode(7, /agentSocket "agent.sock" must be an absolute path/));
  for (const mtu of [0, 67, 65536, 1500.5, '1500']) assert.throws(() => parseNetConf(conf({ mtu }), 'ADD'), cniCode(7, /mtu/), String(mtu));
  assert.throws(() => parseNetConf(conf({ dns: { nameservers: '10.0.0.1' } }), 'ADD'), cniCode(7, /dns/));
  assert.throws(() => parseNetConf(conf({ args: { cni: { labels: { app: 'web' } } } }), 'ADD'), cniCode(7, /labels/));
  assert.throws(() => parseNetConf(conf({ ipam: { type: 'host-local' } }), 'ADD'), cniCode(2, /unsupported field ipam=\{"type":"host-local"\}/));
  assert.throws(() => parseNetConf(conf(), 'CHECK'), cniCode(7, /CHECK needs prevResult/));
  assert.throws(() => parseNetConf(conf({ prevResult: { ips: 'x' } }), 'DEL'), cniCode(7, /prevResult.ips/));
});

test('prevResult: the addresses of the container interface', () => {
  const prev = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'lxc0123456789a', mac: 'aa:aa:aa:aa:aa:aa' }, { name: 'eth0', mac: 'bb:bb:bb:bb:bb:bb', sandbox: '/run/netns/p' }],
    ips: [{ address: '10.0.1.5/32', gateway: '10.0.1.1', interface: 1 }, { address: '192.0.2.1/32', interface: 0 }],
  };
  const c = parseNetConf(conf({ prevResult: prev }), 'CHECK');
  assert.deepEqual(resultAddressesFor(c.prevResult!, 'eth0').map((i) => i.address), ['10.0.1.5/32']);
  assert.deepEqual(resultAddressesFor(c.prevResult!, 'net1'), []);
  // 0.3.x results may leave out the interface index: every address then counts.
  assert.deepEqual(resultAddressesFor({ cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.1.9/32' }] }, 'eth0').map((i) => i.address), ['10.0.1.9/32']);
});

test('host interface name: lxc + 11 hex digits of sha256(containerID + ifname), stable, at most 15 characters', () => {
  const n = hostIfname('a1b2c3', 'eth0');
  assert.match(n, /^lxc[0-9a-f]{11}$/);
  assert.equal(n.length, 14);
  assert.equal(hostIfname('a1b2c3', 'eth0'), n);
  assert.notEqual(hostIfname('a1b2c3', 'eth1'), n);
  // sha256("abceth0") = a06d7003e19…
  assert.equal(hostIfname('abc', 'eth0'), 'lxca06d7003e19');
  assert.equal(ipamOwner('abc', 'eth0'), 'abc/eth0');
});

test('fuzz: any stdin and environment yields a config or a CniError, never anything else', () => {
  // Deterministic PRNG so a failure reproduces.
  const rand = mulberry32(0x5eed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const values = [null, true, 0, -1, 1e309, 1450, '', 'x', '1.0.0', '/abs', [], [1], {}, { a: 1 }, [{ key: 'a', value: 'b' }], { cni: { labels: 7 } }, { ips: ['10.0.1.5/24'] }, { ips: 'x' }, { cni: { ips: ['fd00::1', '1.2.3.4/99'] } }, [{ containerID: 'a', ifname: 'eth0' }], [{ containerID: 1 }]];
  const keys = ['cniVersion', 'name', 'type', 'agentSocket', 'mtu', 'dns', 'args', 'ipam', 'prevResult', 'runtimeConfig', 'defaultNamespace', 'cni.dev/valid-attachments'];
  const seedText = conf({ prevResult: { interfaces: [{ name: 'eth0', sandbox: '/p' }], ips: [{ address: '10.0.0.2/32', interface: 0 }] } });
  for (let i = 0; i < 3000; i++) {
    let text: string;
    if (rand() < 0.5) {
      const obj = JSON.parse(seedText) as Record<string, unknown>;
      for (let k = 0; k < 3; k++) obj[pick(keys)] = pick(values);
      text = JSON.stringify(obj);
    } else {
      const chars = [...seedText];
      for (let k = 0; k < 4; k++) chars[Math.floor(rand() * chars.length)] = pick(['{', '}', '"', ',', ':', '[', ']', '\\', 'a', '0', ' ']);
      text = chars.join('');
    }
    const command = pick(['ADD', 'DEL', 'CHECK', 'GC', 'STATUS'] as const);
    try {
      const c = parseNetConf(text, command);
      assert.equal(typeof c.agentSocket, 'string');
      resultAddressesFor(c.prevResult ?? { cniVersion: c.cniVersion }, 'eth0');
      labelsOf(c);
      podOf(parseInvocation(env({ CNI_ARGS: pick(['', 'K8S_POD_NAME=Web', 'K8S_POD_NAME=-', 'IP=10.0.1.5']) })), c);
      requestedAddress(parseInvocation(env({ CNI_ARGS: pick(['', 'IP=10.0.1.5', 'IP=x', 'IP=10.0.1.5,10.0.1.6', 'IP=']) })), c);
      requestedMac(parseInvocation(env({ CNI_ARGS: pick(['', 'MAC=02:00:00:00:00:01', 'MAC=x', 'MAC=']) })), c);
    } catch (e) {
      assert.ok(e instanceof CniError, `input ${text} threw ${String(e)}`);
    }
    const envText = Array.from({ length: 6 }, () => pick(['A=1', '=', ';', 'K8S_POD_NAME=x', 'x', '==', ''])).join(pick([';', '']));
    try {
      parseInvocation(env({ CNI_ARGS: envText, CNI_IFNAME: pick(['eth0', '', 'a/b', 'x'.repeat(16)]), CNI_CONTAINERID: pick(['a', '_a', 'a.b-c_d', '']) }));
    } catch (e) {
      assert.ok(e instanceof CniError, `CNI_ARGS ${envText} threw ${String(e)}`);
    }
  }
});

test('requested address: CNI_ARGS IP=, the ips capability, args.cni.ips; one IPv4 address, the sources agreeing', () => {
  const inv = (args?: string) => parseInvocation({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', ...(args ? { CNI_ARGS: args } : {}) });
  const nc = (over: Record<string, unknown> = {}) => parseNetConf(JSON.stringify({ cniVersion: '1.1.0', name: 'beeline', type: 'beeline-cni', ...over }), 'ADD');
  assert.equal(requestedAddress(inv(), nc()), undefined);
  assert.equal(requestedAddress(inv('IgnoreUnknown=1;IP=10.0.1.9'), nc()), '10.0.1.9');
  assert.equal(requestedAddress(inv('IP=10.0.1.9/24'), nc()), '10.0.1.9');
  assert.equal(requestedAddress(inv(), nc({ runtimeConfig: { ips: ['10.0.1.7/24'] } })), '10.0.1.7');
  assert.equal(requestedAddress(inv(), nc({ args: { cni: { ips: ['10.0.1.8'] } } })), '10.0.1.8');
  assert.equal(requestedAddress(inv('IP=10.0.1.7'), nc({ runtimeConfig: { ips: ['10.0.1.7/24'] } })), '10.0.1.7', 'the same address twice is one');
  assert.throws(() => requestedAddress(inv('IP=10.0.1.300'), nc()), cniCode(4, /requested address "10.0.1.300" \(CNI_ARGS IP\) is not an IPv4 address/));
  assert.throws(() => requestedAddress(inv(), nc({ runtimeConfig: { ips: ['10.0.1.7/40'] } })), cniCode(7, /runtimeConfig.ips/));
  assert.throws(() => requestedAddress(inv('IP=fd00::5'), nc()), cniCode(106, /fd00::5 .*IPv4 addresses only/));
  assert.throws(() => requestedAddress(inv('IP=10.0.1.7,10.0.1.8'), nc()), cniCode(106, /10.0.1.7, 10.0.1.8 cannot all be given/));
  assert.throws(() => requestedAddress(inv('IP=10.0.1.7'), nc({ runtimeConfig: { ips: ['10.0.1.8/24'] } })), cniCode(106));
});

test("requested MAC: CNI_ARGS MAC= (podman's --mac-address), the mac capability; one unicast address", () => {
  const inv = (args?: string) => parseInvocation({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', ...(args ? { CNI_ARGS: args } : {}) });
  const nc = (over: Record<string, unknown> = {}) => parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'beeline', type: 'beeline-cni', ...over }), 'ADD');
  assert.equal(requestedMac(inv('IgnoreUnknown=1;K8S_POD_NAME=x'), nc()), undefined);
  assert.equal(requestedMac(inv('IgnoreUnknown=1;MAC=02:42:AC:11:00:02'), nc()), '02:42:ac:11:00:02');
  assert.equal(requestedMac(inv(), nc({ runtimeConfig: { mac: '0a:00:00:00:00:01' } })), '0a:00:00:00:00:01');
  assert.equal(requestedMac(inv('MAC=0a:00:00:00:00:01'), nc({ runtimeConfig: { mac: '0A:00:00:00:00:01' } })), '0a:00:00:00:00:01', 'the same MAC twice is one');
  assert.throws(() => requestedMac(inv('MAC=02:42:ac:11:00'), nc()), cniCode(4, /requested MAC "02:42:ac:11:00" \(CNI_ARGS MAC\) is not a MAC address/));
  assert.throws(() => requestedMac(inv('MAC=01:00:5e:00:00:01'), nc()), cniCode(4, /multicast/));
  assert.throws(() => requestedMac(inv('MAC=00:00:00:00:00:00'), nc()), cniCode(4, /all zeros/));
  assert.throws(() => requestedMac(inv(), nc({ runtimeConfig: { mac: 7 } })), cniCode(7, /runtimeConfig.mac/));
  assert.throws(() => requestedMac(inv('MAC=02:00:00:00:00:01'), nc({ runtimeConfig: { mac: '02:00:00:00:00:02' } })), cniCode(7, /differ/));
});

test('IPAM owners: the plugin\'s <containerID>/<ifname> and nothing else', () => {
  assert.deepEqual(attachmentOfOwner(ipamOwner('c0ffee', 'eth0')), { containerID: 'c0ffee', ifname: 'eth0' });
  for (const o of ['health', '/eth0', 'c0ffee/', '-x/eth0', 'c0ffee/eth 0', 'c0ffee/waytoolonginterface']) assert.equal(attachmentOfOwner(o), undefined, o);
});
