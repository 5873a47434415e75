/**
 * kubectl-style resource commands (apply, get, describe, delete) through the
 * real CLI against a real lab's etcd. The lab's controllers and kubelets run
 * what is applied (test/privileged/workloads.test.ts covers that); here the
 * verbs and their output are what is tested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beeline, beelineOk } from '../lib/cli.js';

const LAB = 'restest';
const env = { BEELINE_LAB: LAB };
const run = (args: string[]) => beeline(args, env);
const ok = (args: string[]) => beelineOk(args, env);

const APP = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: a}
---
apiVersion: v1
kind: Namespace
metadata:
  name: blog
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: blog
  labels: {app: client}
spec:
  containers:
  - name: c
    image: curlimages/curl
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  type: NodePort
  selector: {app: api}
  ports:
  - port: 443
    nodePort: 30443
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: allow-client
  namespace: shop
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints:
    - matchLabels: {app: client, k8s:io.kubernetes.pod.namespace: blog}
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
`;

const BAD = `
apiVersion: v1
kind: Service
metadata: {name: good}
spec:
  selector: {app: good}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: bad}
spec:
  selector: {app: bad}
  ports: [{port: 70000}]
`;

const UNKNOWN_KIND = `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
`;

const UNKNOWN_FIELD = `
apiVersion: v1
kind: Service
metadata: {name: extra}
spec:
  foo: bar
  ports: [{port: 81}]
`;

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

test('apply, get, describe and delete against the lab store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-res-'));
  t.after(() => {
    beeline(['lab', 'down', '--name', LAB, '-q']);
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', LAB, '-q']);
  assert.equal(up.code, 0, up.stderr);

  const app = file('app.yaml', APP);
  const created = ok(['apply', '-f', app]);
  assert.deepEqual(lines(created.stdout), [
    'namespace/shop created',
    'namespace/blog created',
    'deployment.apps/web created',
    'pod/client created',
    'service/web created',
    'service/api created',
    'ciliumnetworkpolicy.cilium.io/allow-client created',
  ]);

  // get: default namespace, -n, -A, short names, columns.
  const svc = ok(['get', 'svc']);
  assert.match(lines(svc.stdout)[0]!, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
  assert.match(svc.stdout, /^api\s+NodePort\s+10\.(9[6-9]|10\d|11[01])\.\d+\.\d+\s+<none>\s+443:30443\/TCP\s+\d+s$/m, 'a cluster IP from the service CIDR');
  assert.doesNotMatch(svc.stdout, /^web/m, 'web lives in shop, not default');
  const all = ok(['get', 'services', '-A']);
  assert.match(lines(all.stdout)[0]!, /^NAMESPACE\s+NAME\s+TYPE/);
  assert.match(all.stdout, /^default\s+api\s/m);
  assert.match(all.stdout, /^shop\s+web\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s/m);
  const pods = ok(['get', 'po', '-A', '-o', 'wide']);
  assert.match(lines(pods.stdout)[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
  assert.match(pods.stdout, /^blog\s+client\s+\d\/1\s/m);
  const deploy = ok(['get', 'deploy', '-n', 'shop']);
  assert.match(lines(deploy.stdout)[0]!, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
  assert.match(deploy.stdout, /^web\s+\d\/2\s+\d\s+\d\s/m);
  const ns = ok(['get', 'ns']);
  assert.match(ns.stdout, /^blog\s+Active\s/m);
  assert.match(ns.stdout, /^shop\s+Active\s/m);
  assert.match(ok(['get', 'cnp', '-n', 'shop']).stdout, /^allow-client\s+\S+$/m);
  assert.match(ok(['get', 'po', '-A', '-l', 'app=client', '-o', 'name']).stdout, /^pod\/client$/m);
  const json = JSON.parse(ok(['get', 'svc', '-A', '-o', 'json']).stdout);
  assert.equal(json.kind, 'List');
  assert.deepEqual(json.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort(), ['api', 'kube-dns', 'web']);
  const one = JSON.parse(ok(['get', 'deployment', 'web', '-n', 'shop', '-o', 'json']).stdout);
  assert.equal(one.kind, 'Deployment');
  assert.equal(one.spec.replicas, 2);
  const yaml = ok(['get', 'ns', '-o', 'yaml']).stdout;
  assert.match(yaml, /^kind: List$/m);
  assert.match(yaml, /name: shop/);
  const none = run(['get', 'po']);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr.trim(), 'No resources found in default namespace.');
  const missing = run(['get', 'po', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr.trim(), /^Error \[BL_ERR_STORE_NOT_FOUND\]: .*pods "nope" not found/);
  const badKind = run(['get', 'widgets']);
  assert.notEqual(badKind.code, 0);
  assert.match(badKind.stderr, /^Error \[BL_ERR_UNKNOWN_KIND\]: .*"widgets".*svc/);

  // describe
  const desc = ok(['describe', 'svc', 'web', '-n', 'shop']).stdout;
  assert.match(desc, /^Name:\s+web$/m);
  assert.match(desc, /^Namespace:\s+shop$/m);
  assert.match(desc, /^Labels:\s+<none>$/m);
  assert.match(desc, /^\s+ports\[0\]\.port:\s+80$/m);
  assert.match(ok(['describe', 'ns', 'shop']).stdout, /^Labels:\s+team=a$/m);

  // Re-apply: unchanged; a changed object is configured.
  const again = ok(['apply', '-f', app]);
  assert.ok(lines(again.stdout).every((l) => l.endsWith(' unchanged')), again.stdout);
  const changed = ok(['apply', '-f', file('app2.yaml', APP.replace('replicas: 2', 'replicas: 3'))]);
  assert.match(changed.stdout, /^deployment\.apps\/web configured$/m);
  assert.match(changed.stdout, /^service\/web unchanged$/m);
  assert.equal(JSON.parse(ok(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']).stdout).spec.replicas, 3);

  // One invalid object: the whole file is rejected with the field path, nothing from it is stored.
  const bad = run(['apply', '-f', file('bad.yaml', BAD)]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  const badLines = lines(bad.stderr);
  assert.match(badLines[0]!, /^Error \[BL_ERR_INVALID\]: apply .*bad\.yaml: 1 invalid object, nothing/);
  assert.match(badLines[1]!, /bad\.yaml#2: Service\/default\/bad: spec\.ports\[0\]\.port: must be 1-65535/);
  assert.equal(run(['get', 'svc', 'good']).code, 1, 'nothing from the invalid file was applied');
  assert.doesNotMatch(ok(['get', 'svc', '-A']).stdout, /good|bad/);

  // Unknown kind: rejected, naming the known kinds.
  const unk = run(['apply', '-f', file('unk.yaml', UNKNOWN_KIND)]);
  assert.equal(unk.code, 1);
  assert.match(unk.stderr, /^Error \[BL_ERR_UNKNOWN_KIND\]: .*"Widget".*known: .*CiliumNetworkPolicy/);

  // Unknown field: a warning, and applied.
  const extra = ok(['apply', '-f', file('extra.yaml', UNKNOWN_FIELD)]);
  assert.match(extra.stderr, /^Warning: .*Service\/default\/extra: unknown field "spec\.foo"$/m);
  assert.equal(extra.stdout.trim(), 'service/extra created');

  // Accepted but not implemented: applied, with a Warning line naming the field.
  const v6 = ok(['apply', '-f', file('v6.yaml', `apiVersion: v1
kind: Service
metadata: {name: v6, namespace: default}
spec:
  ports: [{port: 80}]
  ipFamilies: [IPv4, IPv6]
`)]);
  assert.match(v6.stderr, /^Warning: .*v6\.yaml#1: Service\/default\/v6: spec\.ipFamilies\[1\]: IPv6 is not implemented/m);
  assert.equal(v6.stdout.trim(), 'service/v6 created');
  ok(['delete', 'svc', 'v6']);

  // Policies go through the agents' own engine at apply: what no agent would accept refuses the file,
  // and so does what no proxy can enforce as written (here a generic l7proto rule: enforcing only its
  // L4 part would allow more than written), with its field path; HTTP rules go to the node proxy,
  // Kafka rules to the agent's Kafka proxy, and warn of nothing.
  const generic = run(['apply', '-f', file('l7gen.yaml', `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l7, namespace: default}
spec:
  endpointSelector: {}
  ingress:
  - toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET, path: /public}]}}]
  - toPorts: [{ports: [{port: "4000", protocol: TCP}], rules: {l7proto: myproto, l7: [{action: allow}]}}]
`)]);
  assert.equal(generic.code, 1);
  assert.match(generic.stderr, /^Error \[BL_ERR_INVALID\]: apply .*l7gen\.yaml: 1 invalid object, nothing/);
  assert.match(generic.stderr, /CiliumNetworkPolicy\/default\/l7: spec\.ingress\[1\]\.toPorts\[0\]\.rules\.l7proto: Unsupported value: generic L7 rules/);
  assert.equal(run(['get', 'cnp', 'l7']).code, 1, 'nothing of it was applied');
  const l7 = ok(['apply', '-f', file('l7.yaml', `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l7, namespace: default}
spec:
  endpointSelector: {}
  ingress:
  - toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET, path: /public}]}}]
  - toPorts: [{ports: [{port: "9092", protocol: TCP}], rules: {kafka: [{topic: orders}]}}]
`)]);
  assert.doesNotMatch(l7.stderr, /Warning/);
  assert.equal(l7.stdout.trim(), 'ciliumnetworkpolicy.cilium.io/l7 created');
  const requires = run(['apply', '-f', file('requires.yaml', `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: requires, namespace: default}
spec:
  endpointSelector: {}
  ingress:
  - fromRequires: [{matchLabels: {env: prod}}]
`)]);
  assert.equal(requires.code, 1);
  assert.match(requires.stderr, /^Error \[BL_ERR_INVALID\]: apply .*requires\.yaml: 1 invalid object, nothing/);
  assert.match(requires.stderr, /CiliumNetworkPolicy\/default\/requires: spec\.ingress\[0\]\.fromRequires: Forbidden/);
  assert.equal(run(['get', 'cnp', 'requires']).code, 1, 'nothing of it was applied');
  ok(['delete', 'cnp', 'l7']);

  // delete KIND NAME, NotFound, --ignore-not-found.
  assert.equal(ok(['delete', 'svc', 'extra']).stdout.trim(), 'service "extra" deleted');
  const gone = run(['delete', 'svc', 'extra']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^Error \[BL_ERR_STORE_NOT_FOUND\]: .*services "extra" not found/);
  const ignored = run(['delete', 'svc', 'extra', '--ignore-not-found']);
  assert.equal(ignored.code, 0, ignored.stderr);
  assert.equal(ignored.stdout, '');

  // delete -f removes everything the file describes.
  const del = ok(['delete', '-f', app]);
  assert.match(del.stdout, /^deployment\.apps "web" deleted$/m);
  assert.match(del.stdout, /^ciliumnetworkpolicy\.cilium\.io "allow-client" deleted$/m);
  assert.equal(lines(del.stdout).length, 7);
  for (const k of ['deploy', 'cnp']) {
    const r = run(['get', k, '-A', '-o', 'json']);
    assert.deepEqual(JSON.parse(r.stdout).items.filter((i: any) => i.metadata.namespace !== 'kube-system').map((i: any) => i.metadata.name), [], `get ${k} -A after delete -f`);
  }
  // What the lab made itself stays: the system namespaces, kube-dns and its pods' Deployment.
  assert.deepEqual(JSON.parse(ok(['get', 'deploy', '-n', 'kube-system', '-o', 'json']).stdout).items.map((i: any) => i.metadata.name), ['coredns']);
  assert.deepEqual(JSON.parse(ok(['get', 'ns', '-o', 'json']).stdout).items.map((i: any) => i.metadata.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  assert.deepEqual(JSON.parse(ok(['get', 'svc', '-A', '-o', 'json']).stdout).items.map((i: any) => i.metadata.name), ['kube-dns']);
  // The Deployment's pods go with it (garbage collector, graceful deletion by their kubelets).
  const userPods = () => (JSON.parse(ok(['get', 'po', '-A', '-o', 'json']).stdout).items as any[]).filter((i) => i.metadata.namespace !== 'kube-system').map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
  for (let i = 0; i < 200 && userPods().length; i++) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(userPods(), [], 'pods of the deleted Deployment are gone');
  const twice = run(['delete', '-f', app]);
  assert.equal(twice.code, 1);
  assert.equal(ok(['delete', '-f', app, '--ignore-not-found']).code, 0);
});
