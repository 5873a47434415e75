import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { BeelineError, ManifestParseError, UnknownKindError, ValidationError } from '../common/errors.js';
import { parseManifest } from './parse.js';
import { validateBatch } from './validate.js';
import { mulberry32 as rng } from '../../test/lib/rng.js';


const SEEDS: unknown[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'NodePort', selector: { app: 'a' }, ports: [{ name: 'h', port: 80, targetPort: 'http', nodePort: 30001 }] } },
  { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'rule1' }, spec: { endpointSelector: { matchLabels: { org: 'empire' } }, ingress: [{ fromEndpoints: [{ matchLabels: { org: 'empire' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'POST', path: '/v1/request-landing' }] } }] }] } },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec: { podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80, endPort: 90 }] }] } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', readinessProbe: { httpGet: { port: 80 } } }] } } } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [{ matches: [{ path: { type: 'Exact', value: '/' } }], backendRefs: [{ name: 's', port: 80, weight: 1 }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } }] }] } },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e' }, addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'] }], ports: [{ port: 80 }] },
];

const ODD: unknown[] = [null, 0, -1, 65536, 1.5, '', 'x', '80', 'None', '10.0.0.0/33', '::/0', true, [], {}, [null], { a: 1 }, 'ANY', 'In', Number.MAX_SAFE_INTEGER, '*', 'k8s:app'];

function mutate(v: unknown, r: () => number, depth = 0): unknown {
  if (r() < 0.15 || depth > 8) return ODD[Math.floor(r() * ODD.length)];
  if (Array.isArray(v)) {
    const out = v.map((x) => mutate(x, r, depth + 1));
    if (r() < 0.1) out.push(out[0] ?? {});
    if (r() < 0.1) out.pop();
    return out;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (r() < 0.05) continue;
      out[r() < 0.03 ? `${k}x` : k] = mutate(x, r, depth + 1);
    }
    if (r() < 0.05) out.__proto__x = 1;
    return out;
  }
  return r() < 0.3 ? ODD[Math.floor(r() * ODD.length)] : v;
}

/** Text-level damage: flip, drop or insert characters that matter to YAML. */
function damage(s: string, r: () => number): string {
  const chars = ':-[]{}#&*!|>\'"%@` \n\t';
  let out = s;
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * out.length);
    const op = r();
    if (op < 0.4) out = out.slice(0, at) + chars[Math.floor(r() * chars.length)] + out.slice(at + 1);
    else if (op < 0.7) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + chars[Math.floor(r() * chars.length)] + out.slice(at);
  }
  return out;
}

test('fuzz: parse + validate throw only coded manifest errors (seeded, bounded)', () => {
  const r = rng(0xbee1);
  const seen = { ok: 0, invalid: 0, unknownKind: 0, parse: 0 };
  for (let i = 0; i < 3000; i++) {
    const docs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => mutate(SEEDS[Math.floor(r() * SEEDS.length)], r));
    let text = docs.map((d) => stringify(d)).join('---\n');
    if (r() < 0.4) text = damage(text, r);
    if (r() < 0.1) text = JSON.stringify(docs.length === 1 ? docs[0] : { kind: 'List', items: docs });
    try {
      validateBatch(parseManifest(text, 'fuzz.yaml'));
      seen.ok++;
    } catch (e) {
      if (e instanceof ValidationError) seen.invalid++;
      else if (e instanceof UnknownKindError) seen.unknownKind++;
      else if (e instanceof ManifestParseError) seen.parse++;
      else assert.fail(`iteration ${i}: unexpected ${e instanceof BeelineError ? e.code : String(e)}\n${(e as Error).stack}\n--- input ---\n${text}`);
    }
  }
  // The corpus must exercise every outcome, or the fuzzer is not reaching the validator.
  for (const [k, n] of Object.entries(seen)) assert.ok(n > 0, `no ${k} outcome in ${JSON.stringify(seen)}`);
});
