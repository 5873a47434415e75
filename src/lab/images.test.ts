import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { CATALOGUE, BUILTIN_MAIN, IDLE_ARGV, PAUSE_ARGV, imageName, lookupImage, resolveContainerCommand } from './images.js';
import { BUILTINS } from './images/registry.js';
import { join } from 'node:path';
import { repoRoot } from '../common/version.js';

test('image references normalise to catalogue names', () => {
  assert.equal(imageName('docker.io/cilium/starwars:v1@sha256:0123456789abcdef'), 'cilium/starwars');
  assert.equal(imageName('quay.io/cilium/starwars:v2.1'), 'cilium/starwars');
  assert.equal(imageName('cilium/starwars'), 'cilium/starwars');
  assert.equal(imageName('nginx'), 'nginx');
  assert.equal(imageName('nginx:1.27-alpine'), 'nginx');
  assert.equal(imageName('docker.io/library/nginx:latest'), 'nginx');
  assert.equal(imageName('library/busybox'), 'busybox');
  assert.equal(imageName('registry.k8s.io/e2e-test-images/agnhost:2.52'), 'e2e-test-images/agnhost');
  assert.equal(imageName('registry.k8s.io/pause:3.10'), 'pause');
  assert.equal(imageName('ghcr.io/mccutchen/go-httpbin:v2.15.0'), 'mccutchen/go-httpbin');
  assert.equal(imageName('localhost:5000/team/app:1'), 'team/app');
  assert.equal(imageName('my.registry.example/x/y@sha256:abc'), 'x/y');
  assert.equal(imageName('Ealen/Echo-Server'), 'ealen/echo-server');
});

test('catalogue: names are unique, lookups find aliases, every built-in exists', () => {
  const names = CATALOGUE.flatMap((e) => [e.name, ...e.aliases]);
  assert.equal(new Set(names).size, names.length);
  for (const e of CATALOGUE) {
    assert.equal(imageName(e.name), e.name);
    if (e.builtin) assert.ok(BUILTINS[e.builtin], `built-in ${e.builtin} is registered`);
    if (e.hostProgram) assert.ok(existsSync(join(repoRoot, e.hostProgram)), `host program ${e.hostProgram} exists`);
  }
  assert.equal(lookupImage('quay.io/cilium/json-mock:v1.3.8@sha256:5aad04835eda9025fe4561ad31be77fd55309af8158ca8663a72f6abb78c2603')?.builtin, 'json-mock');
  assert.equal(lookupImage('k8s.gcr.io/pause:3.1')?.hostArgv, PAUSE_ARGV);
  assert.equal(lookupImage('example/unknown'), undefined);
  assert.match(BUILTIN_MAIN, /dist\/src\/lab\/images\/main\.js$/);
});

test('the compiled built-in entry point exists where argv points', () => {
  assert.ok(existsSync(BUILTIN_MAIN), BUILTIN_MAIN);
});

const node = process.execPath;

test('unknown images: command/args run as given; with neither they idle', () => {
  assert.deepEqual(resolveContainerCommand({ image: 'example/app:1' }), { argv: [...IDLE_ARGV] });
  assert.deepEqual(resolveContainerCommand({ image: 'example/app', command: [], args: [] }), { argv: ['sleep', 'infinity'] });
  assert.deepEqual(resolveContainerCommand({ image: 'example/app', command: ['/bin/sh', '-c'], args: ['echo hi'] }), { argv: ['/bin/sh', '-c', 'echo hi'] });
  assert.deepEqual(resolveContainerCommand({ image: 'example/app', args: ['python3', '-m', 'http.server'] }), { argv: ['python3', '-m', 'http.server'] });
});

test('entrypoint/CMD rules: command overrides ENTRYPOINT (and drops CMD), args override CMD', () => {
  // curl: ENTRYPOINT curl
  assert.deepEqual(resolveContainerCommand({ image: 'curlimages/curl:8.9.1', args: ['-s', 'http://x/'] }), { argv: ['curl', '-s', 'http://x/'] });
  assert.deepEqual(resolveContainerCommand({ image: 'curlimages/curl', command: ['sh', '-c', 'sleep 1'] }), { argv: ['sh', '-c', 'sleep 1'] });
  // busybox: CMD sh; command replaces it, args replace CMD
  assert.deepEqual(resolveContainerCommand({ image: 'busybox' }), { argv: ['sh'] });
  assert.deepEqual(resolveContainerCommand({ image: 'busybox:1.36', command: ['sleep', '3600'] }), { argv: ['sleep', '3600'] });
  assert.deepEqual(resolveContainerCommand({ image: 'busybox', args: ['sleep', '10'] }), { argv: ['sleep', '10'] });
  // agnhost: ENTRYPOINT /agnhost, CMD pause
  const agn = 'registry.k8s.io/e2e-test-images/agnhost:2.52';
  assert.deepEqual(resolveContainerCommand({ image: agn }), { argv: [node, BUILTIN_MAIN, 'agnhost', 'pause'], builtin: 'agnhost' });
  assert.deepEqual(resolveContainerCommand({ image: agn, args: ['netexec', '--http-port=8080'] }), { argv: [node, BUILTIN_MAIN, 'agnhost', 'netexec', '--http-port=8080'], builtin: 'agnhost' });
  // command naming the image's own program keeps the built-in; command without args drops CMD
  assert.deepEqual(resolveContainerCommand({ image: agn, command: ['/agnhost', 'serve-hostname'] }), { argv: [node, BUILTIN_MAIN, 'agnhost', 'serve-hostname'], builtin: 'agnhost' });
  assert.deepEqual(resolveContainerCommand({ image: agn, command: ['/agnhost'] }), { argv: [node, BUILTIN_MAIN, 'agnhost'], builtin: 'agnhost' });
  // any other program in a built-in image runs from the host
  assert.deepEqual(resolveContainerCommand({ image: agn, command: ['sh', '-c', 'echo hi'] }), { argv: ['sh', '-c', 'echo hi'] });
});

test('built-in images resolve to node main.js <builtin> ...', () => {
  assert.deepEqual(resolveContainerCommand({ image: 'docker.io/cilium/starwars:v1.0' }), { argv: [node, BUILTIN_MAIN, 'starwars', '--port', '80', '--host', '0.0.0.0'], builtin: 'starwars' });
  assert.deepEqual(resolveContainerCommand({ image: 'quay.io/cilium/json-mock:v1.3.8' }), { argv: [node, BUILTIN_MAIN, 'json-mock'], builtin: 'json-mock' });
  assert.deepEqual(resolveContainerCommand({ image: 'hashicorp/http-echo', args: ['-text=hello', '-listen=:8080'] }), { argv: [node, BUILTIN_MAIN, 'http-echo', '-text=hello', '-listen=:8080'], builtin: 'http-echo' });
  assert.deepEqual(resolveContainerCommand({ image: 'ealen/echo-server:latest' }), { argv: [node, BUILTIN_MAIN, 'ealen-echo-server'], builtin: 'ealen-echo-server' });
  assert.deepEqual(resolveContainerCommand({ image: 'nginx:1.27' }), { argv: [node, BUILTIN_MAIN, 'nginx', 'nginx', '-g', 'daemon off;'], builtin: 'nginx' });
  assert.deepEqual(resolveContainerCommand({ image: 'nginx', command: ['nginx', '-g', 'daemon off;'] }), { argv: [node, BUILTIN_MAIN, 'nginx', '-g', 'daemon off;'], builtin: 'nginx' });
  assert.equal(resolveContainerCommand({ image: 'mccutchen/go-httpbin' }).builtin, 'go-httpbin');
  assert.equal(resolveContainerCommand({ image: 'httpd:2.4' }).builtin, 'httpd');
});

test('pause runs as host processes, not Node.js: its own program, with or without args, is PAUSE_ARGV', () => {
  assert.deepEqual(resolveContainerCommand({ image: 'registry.k8s.io/pause:3.10' }), { argv: [...PAUSE_ARGV] });
  assert.deepEqual(resolveContainerCommand({ image: 'pause', command: ['/pause'], args: ['-v'] }), { argv: [...PAUSE_ARGV] });
  // another program in the pause image runs from the host, as for built-ins
  assert.deepEqual(resolveContainerCommand({ image: 'pause', command: ['sh', '-c', 'true'] }), { argv: ['sh', '-c', 'true'] });
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`pause sleeps until ${signal}, then exits 0 and takes its sleep with it (as pause.c)`, async () => {
    const p = spawn(PAUSE_ARGV[0]!, PAUSE_ARGV.slice(1), { stdio: 'ignore' });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => p.on('exit', (code, sig) => resolve([code, sig])));
    // Wait for its sleep to start, and check it is still running meanwhile.
    const childrenOf = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    let sleepPid: number | undefined;
    for (let i = 0; i < 100 && sleepPid === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      sleepPid = childrenOf(p.pid!)[0];
    }
    assert.ok(sleepPid, 'pause started its sleep');
    assert.equal(p.exitCode, null, 'pause is still running');
    p.kill(signal);
    assert.deepEqual(await exited, [0, null]);
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      gone = !existsSync(`/proc/${sleepPid}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${sleepPid}/status`, 'utf8'));
      if (!gone) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(gone, 'its sleep ended with it');
  });
}

test('nginx-native resolves to the host program bin/beeline-nginx (with a tmpfs for its files), not to Node.js', () => {
  const prog = join(repoRoot, 'bin', 'beeline-nginx');
  const tmpfs = ['/var/lib/nginx'];
  assert.deepEqual(resolveContainerCommand({ image: 'beeline.dev/nginx-native' }), { argv: [prog], tmpfs });
  assert.deepEqual(resolveContainerCommand({ image: 'beeline/nginx-native:1', args: ['--port', '8080', '--text', 'hi'] }), { argv: [prog, '--port', '8080', '--text', 'hi'], tmpfs });
  assert.deepEqual(resolveContainerCommand({ image: 'nginx-native', command: ['/beeline-nginx', '--port=81'] }), { argv: [prog, '--port=81'], tmpfs });
  // another program in it runs from the host as given (the host's nginx with its own arguments, say)
  assert.deepEqual(resolveContainerCommand({ image: 'nginx-native', command: ['nginx', '-t'] }), { argv: ['nginx', '-t'] });
  // the nginx image keeps its built-in
  assert.equal(resolveContainerCommand({ image: 'nginx' }).builtin, 'nginx');
});

test('bare shells: exit at once as in Kubernetes, unless stdin/tty keeps them open (idle)', () => {
  assert.deepEqual(resolveContainerCommand({ image: 'ubuntu:24.04' }), { argv: ['/bin/bash'] });
  assert.deepEqual(resolveContainerCommand({ image: 'ubuntu:24.04', stdin: true, tty: true }), { argv: ['sleep', 'infinity'] });
  assert.deepEqual(resolveContainerCommand({ image: 'nicolaka/netshoot' }), { argv: ['zsh'] });
  assert.deepEqual(resolveContainerCommand({ image: 'nicolaka/netshoot', tty: true }), { argv: ['sleep', 'infinity'] });
  assert.deepEqual(resolveContainerCommand({ image: 'alpine', stdin: true, command: ['sh', '-c', 'true'] }), { argv: ['sh', '-c', 'true'] });
});
