/**
 * podman 4.3 (its CNI backend, runc) as a new user would run it against
 * beeline: inside a lab node's network namespace (`nsenter --net`), with the
 * node's rendered conflist, every state directory private to the test and no
 * image (a rootfs of the machine's own /usr, bind-mounted read-only). Covers
 * run, stop, start, restart, `network reload`, rm, parallel starts, the
 * --ip / --mac-address requests, podman's container names as the pod name, and
 * GC releasing what podman leaks when a netns vanishes before its teardown.
 * Afterwards nothing of podman's is left and lab down leaves the host as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostIfname } from '../../src/cni/config.js';
import { CONFLIST_FILE, conflistText, renderConflist } from '../../src/cni/conflist.js';
import { run, runAsync } from '../../src/common/exec.js';
import { cidrContains, formatIPv4, parseCidr, parseIPv4 } from '../../src/ipam/cidr.js';
import { listNetns } from '../../src/lab/netns.js';
import { diffSnapshots, snapshotHost } from '../../src/lab/safety.js';
import { beeline } from '../lib/cli.js';
import { cniBin, delNetnsIfPresent, linkNames, runCni, upOneNodeLab } from '../lib/cni.js';

const LAB = 'podman';
/** libcni's cache (podman 4.3 gives no way to move it) and runc's default state root. */
const CNI_CACHE = '/var/lib/cni';
const RUNC_DEFAULT_ROOT = '/run/runc';

/** Mount points at or below `dir` (podman's per-container shm), deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

test('podman 4.3 (CNI backend, runc) drives beeline-cni: run, stop, start, restart, network reload, rm, parallel starts', { timeout: 240_000 }, async (t) => {
  const before = snapshotHost();
  const hadCniCache = existsSync(CNI_CACHE);
  const hadRuncRoot = existsSync(RUNC_DEFAULT_ROOT);
  const netnsBefore = new Set(listNetns());
  const dir = mkdtempSync('/tmp/beeline-podman-');
  const d = (...p: string[]) => join(dir, ...p);

  const { node, socket, endpoints, status } = upOneNodeLab(LAB);

  // podman's world, all of it under `dir`: storage, run state, runc's state, its
  // locks and events, the network configuration (the node's conflist) and plugin directory.
  for (const sub of ['root', 'runroot', 'tmp', 'runc', 'bin', 'net.d', 'plugins', 'rootfs']) mkdirSync(d(sub));
  // runc with its state under the test directory. A wrapper, not --runtime-flag root=…: podman's exit
  // command (conmon runs `podman container cleanup` when a container ends) does not carry runtime flags,
  // and a cleanup with the default root leaves the state behind. Named runc: podman knows it by name.
  writeFileSync(d('bin', 'runc'), `#!/bin/sh\nexec /usr/sbin/runc --root ${d('runc')} "$@"\n`, { mode: 0o755 });
  writeFileSync(d('net.d', CONFLIST_FILE), conflistText(renderConflist({ agentSocket: socket })));
  symlinkSync(cniBin, d('plugins', 'beeline-cni'));
  // An image without a registry: the machine's /usr, read-only, under usrmerge links.
  for (const sub of ['usr', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'root']) mkdirSync(d('rootfs', sub));
  for (const [l, to] of Object.entries({ bin: 'usr/bin', sbin: 'usr/sbin', lib: 'usr/lib', lib64: 'usr/lib64' })) symlinkSync(to, d('rootfs', l));
  writeFileSync(
    d('containers.conf'),
    [
      '[containers]',
      'log_driver = "k8s-file"',
      // podman asks for nofile/nproc 1048576; above this machine's hard limits runc is refused (EPERM).
      'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
      '[network]',
      'network_backend = "cni"',
      `network_config_dir = "${d('net.d')}"`,
      `cni_plugin_dirs = ["${d('plugins')}"]`,
      'default_network = "beeline"',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      `runtime = "${d('bin', 'runc')}"`,
      'events_logger = "file"',
      `events_logfile_path = "${d('tmp', 'events.log')}"`,
      // File locks in tmp_dir, not shared memory (/dev/shm/libpod_lock).
      'lock_type = "file"',
      `tmp_dir = "${d('tmp')}"`,
      `static_dir = "${d('root', 'libpod')}"`,
      `volume_path = "${d('root', 'volumes')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(d('storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${d('root')}"\nrunroot = "${d('runroot')}"\n`);
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CONTAINERS_CONF: d('containers.conf'), CONTAINERS_STORAGE_CONF: d('storage.conf'), CONTAINERS_REGISTRIES_CONF: '/dev/null' };
  const global = ['--root', d('root'), '--runroot', d('runroot'), '--tmpdir', d('tmp'), '--runtime', d('bin', 'runc')];
  global.push('--cgroup-manager', 'cgroupfs', '--network-backend', 'cni', '--network-config-dir', d('net.d'), '--storage-driver', 'vfs', '--events-backend', 'file');
  /** podman, only ever in the node's network namespace. */
  const podman = (...args: string[]) => runAsync('nsenter', [`--net=/run/netns/${node.netns}`, 'podman', ...global, ...args], { env, allowFailure: true, timeoutMs: 60_000 });
  const ok = async (...args: string[]) => {
    const r = await podman(...args);
    assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  // The container's cgroups go below the lab's subtree (every hierarchy); lab down removes them.
  const runArgs = ['--network', 'beeline', '--cgroup-parent', `/beeline/${LAB}/podman`, '-v', '/usr:/usr:ro', '--rootfs', d('rootfs')];
  const start = (name: string | undefined, ...extra: string[]) => ok('run', '-d', ...(name ? ['--name', name] : []), ...extra, ...runArgs, 'sleep', '600');
  const addressOf = (c: string) => ok('inspect', c, '--format', '{{.NetworkSettings.Networks.beeline.IPAddress}}');
  const idOf = (c: string) => ok('inspect', c, '--format', '{{.Id}}');
  const endpointOf = async (id: string) => (await endpoints()).find((e) => e.containerID === id);
  const used = async () => (await status()).ipam.used;
  const pingFromNode = (ip: string) => run('ip', ['netns', 'exec', node.netns, 'ping', '-c1', '-W2', ip], { allowFailure: true }).code;

  t.after(async () => {
    // What podman made, however the test ended: containers (and their netns, shm mounts, runc state).
    await podman('rm', '-a', '-f', '-t', '0').catch(() => undefined);
    for (const m of mountsUnder(dir)) run('umount', ['-l', m], { allowFailure: true });
    for (const ns of listNetns()) if (ns.startsWith('netns-') && !netnsBefore.has(ns)) delNetnsIfPresent(ns);
    beeline(['lab', 'down', '--name', LAB, '-q']);
    rmSync(dir, { recursive: true, force: true });
    if (!hadCniCache) rmSync(CNI_CACHE, { recursive: true, force: true });
    if (!hadRuncRoot) rmSync(RUNC_DEFAULT_ROOT, { recursive: true, force: true });
  });

  const cidr = parseCidr((await status()).podCIDR);
  const inCidr = (ip: string) => cidrContains(cidr, parseIPv4(ip));
  const base = await used();

  // run: an address of the node's pod CIDR, the endpoint registered as the container's name, traffic both ways.
  await start('web1');
  await start('Web_Two', '--mac-address', '02:42:ac:11:00:99');
  const [id1, id2] = [await idOf('web1'), await idOf('Web_Two')];
  const [ip1, ip2] = [await addressOf('web1'), await addressOf('Web_Two')];
  assert.ok(inCidr(ip1) && inCidr(ip2) && ip1 !== ip2, `${ip1}, ${ip2} in ${(await status()).podCIDR}`);
  const ep1 = (await endpointOf(id1))!;
  assert.deepEqual([ep1.ipv4, ep1.pod], [ip1, { namespace: 'default', name: 'web1' }]);
  const ep2 = (await endpointOf(id2))!;
  assert.deepEqual([ep2.ipv4, ep2.pod, ep2.mac], [ip2, { namespace: 'default', name: 'web-two' }, '02:42:ac:11:00:99'], "podman's name with `_` as `-`, its --mac-address");
  assert.match(await ok('exec', 'Web_Two', 'ip', '-o', 'link', 'show', 'eth0'), /link\/ether 02:42:ac:11:00:99 /);
  assert.equal(pingFromNode(ip1), 0, 'the node reaches the container');
  await ok('exec', 'Web_Two', 'ping', '-c1', '-W2', ip1);
  assert.equal(await used(), base + 2);

  // --ip: the address asked for (podman passes CNI_ARGS IP=).
  const wantedText = formatIPv4(cidr.base + 200);
  await start('fixed', '--ip', wantedText);
  assert.equal(await addressOf('fixed'), wantedText);
  await ok('rm', '-f', '-t', '0', 'fixed');

  // stop: endpoint, host veth and address released; start: an address again.
  await ok('stop', '-t', '0', 'web1');
  assert.equal(await endpointOf(id1), undefined, 'no endpoint after stop');
  assert.ok(!linkNames(node.netns).includes(hostIfname(id1, 'eth0')), 'no host veth after stop');
  assert.equal(await used(), base + 1);
  await ok('start', 'web1');
  const ip1b = await addressOf('web1');
  assert.equal((await endpointOf(id1))?.ipv4, ip1b);
  assert.equal(await used(), base + 2);
  // restart: DEL then ADD, nothing leaks.
  await ok('restart', '-t', '0', 'web1');
  const ip1c = await addressOf('web1');
  assert.equal((await endpointOf(id1))?.ipv4, ip1c);
  assert.equal(await used(), base + 2, 'restart leaks no address');
  assert.equal(pingFromNode(ip1c), 0);

  // network reload: podman tears the network down and sets it up again, asking for the same address.
  await ok('network', 'reload', 'web1');
  assert.equal(await addressOf('web1'), ip1c, 'the same address after reload');
  assert.equal((await endpointOf(id1))?.ipv4, ip1c);
  assert.equal(await used(), base + 2);
  assert.equal(pingFromNode(ip1c), 0, 'connectivity after reload');
  await ok('exec', 'Web_Two', 'ping', '-c1', '-W2', ip1c);

  // rm: everything released.
  await ok('rm', '-f', '-t', '0', 'web1', 'Web_Two');
  assert.equal(await used(), base);
  assert.equal(await endpointOf(id2), undefined);

  // Parallel starts: six at once, six distinct addresses, six endpoints; removed at once, nothing left.
  const runs = await Promise.all(Array.from({ length: 6 }, () => podman('run', '-d', ...runArgs, 'sleep', '600')));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const ids = runs.map((r) => r.stdout.trim());
  const eps = await endpoints();
  const addrs = ids.map((id) => eps.find((e) => e.containerID === id)?.ipv4);
  assert.ok(addrs.every((a) => a && inCidr(a)), `endpoints: ${addrs.join(', ')}`);
  assert.equal(new Set(addrs).size, 6, 'distinct addresses');
  for (const [i, id] of ids.entries()) assert.equal(await addressOf(id), addrs[i], "podman's record is the agent's");
  assert.equal(await used(), base + 6);
  const rms = await Promise.all(ids.map((id) => podman('rm', '-f', '-t', '0', id)));
  for (const r of rms) assert.equal(r.code, 0, r.stderr);
  assert.equal(await used(), base);
  const links = linkNames(node.netns);
  for (const id of ids) assert.ok(!links.includes(hostIfname(id, 'eth0')), 'no host veth left');

  // A container whose netns vanished before its teardown: podman 4.3 cannot enter it, calls no DEL and
  // forgets the container; its endpoint and address stay. A CNI GC with what podman still has releases them.
  await start('lost');
  const lostID = await idOf('lost');
  const sandbox = await ok('inspect', 'lost', '--format', '{{.NetworkSettings.SandboxKey}}');
  run('ip', ['netns', 'del', sandbox.replace('/run/netns/', '')]);
  await podman('rm', '-f', '-t', '0', 'lost');
  assert.ok(await endpointOf(lostID), "podman's teardown did not reach the plugin");
  const lab = (await endpoints()).filter((e) => !ids.includes(e.containerID) && e.containerID !== lostID);
  const gc = await runCni(node.netns, { CNI_COMMAND: 'GC', CNI_PATH: d('plugins') }, {
    cniVersion: '1.1.0',
    name: 'beeline',
    type: 'beeline-cni',
    agentSocket: socket,
    'cni.dev/valid-attachments': lab.map((e) => ({ containerID: e.containerID, ifname: e.ifname })),
  });
  assert.equal(gc.code, 0, gc.stdout + gc.stderr);
  assert.equal(await endpointOf(lostID), undefined);
  assert.equal(await used(), base);
  // libcni's cache entry of that ADD stays too (no DEL read it): podman's to forget, removed here.
  rmSync(join(CNI_CACHE, 'results', `beeline-${lostID}-eth0`), { force: true });

  // podman left nothing: no container, no netns of its own, no mount, no runc state, no CNI cache entry.
  assert.equal(await ok('ps', '-a', '-q'), '');
  assert.deepEqual(listNetns().filter((n) => n.startsWith('netns-') && !netnsBefore.has(n)), []);
  assert.deepEqual(mountsUnder(dir), []);
  assert.deepEqual(readdirSync(d('runc')), []);
  assert.ok(!existsSync(RUNC_DEFAULT_ROOT) || hadRuncRoot, 'runc kept its state under the test directory');
  const cached = existsSync(join(CNI_CACHE, 'results')) ? readdirSync(join(CNI_CACHE, 'results')).filter((f) => f.startsWith('beeline-')) : [];
  assert.deepEqual(cached, [], "libcni's cache holds nothing of beeline's containers");

  // Lab down (and the cleanup above) leaves the host as it was.
  await podman('rm', '-a', '-f');
  assert.equal(beeline(['lab', 'down', '--name', LAB, '-q']).code, 0);
  rmSync(dir, { recursive: true, force: true });
  if (!hadCniCache) rmSync(CNI_CACHE, { recursive: true, force: true });
  assert.deepEqual(diffSnapshots(before, snapshotHost()), []);
});
