import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { L7Redirect } from '../policy/index.js';
import { RedirectIndex } from './redirects.js';

const r = (o: Partial<L7Redirect>): L7Redirect => ({ direction: 'egress', port: 53, portPrefixLen: 16, identity: 0, protocol: 17, parser: 'dns', proxyPort: 15053, http: [], dns: [], ...o });

test('the peer identity\'s own redirect wins over identity 0; protocol, parser, direction and port must match', () => {
  const own = r({ identity: 1234 });
  const any = r({ identity: 0 });
  const tcp = r({ identity: 1234, protocol: 6 });
  const idx = new RedirectIndex();
  idx.set([{ ipv4: '10.0.1.5', l7: [any, own, tcp] }]);
  const q = { endpointIp: '10.0.1.5', direction: 'egress' as const, parser: 'dns' as const, protocol: 17, port: 53, peerIdentity: 1234 };
  assert.equal(idx.find(q), own);
  assert.equal(idx.find({ ...q, peerIdentity: 99 }), any);
  assert.equal(idx.find({ ...q, protocol: 6 }), tcp);
  assert.equal(idx.find({ ...q, protocol: 6, peerIdentity: 99 }), undefined, 'no identity-0 TCP redirect');
  assert.equal(idx.find({ ...q, parser: 'kafka' }), undefined);
  assert.equal(idx.find({ ...q, direction: 'ingress' }), undefined);
  assert.equal(idx.find({ ...q, port: 54 }), undefined);
  assert.equal(idx.find({ ...q, endpointIp: '10.0.1.6' }), undefined, 'another endpoint has none');
});

test('port ranges: the most specific prefix covering the port wins', () => {
  const wide = r({ parser: 'kafka', protocol: 6, direction: 'ingress', port: 9088, portPrefixLen: 13, kafka: [] });
  const exact = r({ parser: 'kafka', protocol: 6, direction: 'ingress', port: 9092, portPrefixLen: 16, kafka: [] });
  const idx = new RedirectIndex();
  idx.set([{ ipv4: '10.0.2.7', l7: [wide, exact] }]);
  const q = { endpointIp: '10.0.2.7', direction: 'ingress' as const, parser: 'kafka' as const, protocol: 6, port: 9092, peerIdentity: 5 };
  assert.equal(idx.find(q), exact);
  assert.equal(idx.find({ ...q, port: 9095 }), wide, '9088/13 covers 9088-9095');
  assert.equal(idx.find({ ...q, port: 9096 }), undefined);
  idx.set([]);
  assert.equal(idx.find(q), undefined, 'a new set replaces the old');
});
