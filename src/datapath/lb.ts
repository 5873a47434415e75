/**
 * The service maps of one node (abi/lb.h), typed: frontends with their
 * backend slots, backends, reverse NAT. Writes are ordered so the datapath
 * never follows a master entry to a slot that is not there yet: slots first,
 * then the master; when a frontend shrinks, the master first, then the slots
 * past its new count.
 */
import type { LbBackendRow, LbDatapath, LbFrontendRow } from '../agent/datapath.js';
import { formatIPv4, parseIPv4 } from '../ipam/cidr.js';
import {
  BL_LB4_BACKEND_CODEC,
  BL_LB4_KEY_CODEC,
  BL_LB4_REVERSE_NAT_CODEC,
  BL_LB4_SERVICE_CODEC,
  BlLbBackendState,
  U16_CODEC,
  U32_CODEC,
  type BlLb4Backend,
  type BlLb4Key,
  type BlLb4ReverseNat,
  type BlLb4Service,
} from './generated/abi.js';
import type { Datapath } from './loader.js';
import type { TypedMap } from './maps.js';

const PROTO_NUM = { TCP: 6, UDP: 17 } as const;
const PROTO_NAME: Record<number, 'TCP' | 'UDP'> = { 6: 'TCP', 17: 'UDP' };

export class KernelLb implements LbDatapath {
  private readonly services: TypedMap<BlLb4Key, BlLb4Service>;
  private readonly backendMap: TypedMap<number, BlLb4Backend>;
  private readonly revNat: TypedMap<number, BlLb4ReverseNat>;

  constructor(dp: Datapath) {
    this.services = dp.map('bl_lb4_services', BL_LB4_KEY_CODEC, BL_LB4_SERVICE_CODEC);
    this.backendMap = dp.map('bl_lb4_backends', U32_CODEC, BL_LB4_BACKEND_CODEC);
    this.revNat = dp.map('bl_lb4_reverse_nat', U16_CODEC, BL_LB4_REVERSE_NAT_CODEC);
  }

  upsertBackend(b: LbBackendRow): void {
    this.backendMap.set(b.id, {
      address: parseIPv4(b.address),
      port: b.port,
      proto: PROTO_NUM[b.protocol],
      flags: b.state === 'terminating' ? BlLbBackendState.BL_LB_BACKEND_TERMINATING : BlLbBackendState.BL_LB_BACKEND_ACTIVE,
    });
  }

  deleteBackend(id: number): void {
    this.backendMap.delete(id);
  }

  private key(f: Pick<LbFrontendRow, 'address' | 'port' | 'protocol'>, slot: number): BlLb4Key {
    return { address: parseIPv4(f.address), dport: f.port, backend_slot: slot, proto: PROTO_NUM[f.protocol] };
  }

  upsertFrontend(f: LbFrontendRow): void {
    const prev = this.services.get(this.key(f, 0));
    const prevSlots = prev ? prev.count + prev.qcount : 0;
    f.backends.forEach((id, i) => this.services.set(this.key(f, i + 1), { backend_id: id, count: 0, qcount: 0, rev_nat_index: f.id, flags: 0, affinity_timeout: 0 }));
    this.revNat.set(f.id, { address: parseIPv4(f.address), port: f.port });
    this.services.set(this.key(f, 0), { backend_id: 0, count: f.backends.length, qcount: 0, rev_nat_index: f.id, flags: f.flags, affinity_timeout: f.affinityTimeout });
    for (let slot = f.backends.length + 1; slot <= prevSlots; slot++) this.services.delete(this.key(f, slot));
  }

  deleteFrontend(f: Pick<LbFrontendRow, 'id' | 'address' | 'port' | 'protocol'>): void {
    const prev = this.services.get(this.key(f, 0));
    this.services.delete(this.key(f, 0));
    for (let slot = 1; prev && slot <= prev.count + prev.qcount; slot++) this.services.delete(this.key(f, slot));
    this.revNat.delete(f.id);
  }

  frontends(): LbFrontendRow[] {
    const entries = this.services.snapshot();
    const slots = new Map<string, Map<number, number>>();
    const k = (key: BlLb4Key) => `${key.address}/${key.dport}/${key.proto}`;
    for (const [key, v] of entries) {
      if (key.backend_slot === 0) continue;
      if (!slots.has(k(key))) slots.set(k(key), new Map());
      slots.get(k(key))!.set(key.backend_slot, v.backend_id);
    }
    return entries
      .filter(([key]) => key.backend_slot === 0)
      .map(([key, v]) => {
        const s = slots.get(k(key)) ?? new Map<number, number>();
        return {
          id: v.rev_nat_index,
          address: formatIPv4(key.address),
          port: key.dport,
          protocol: PROTO_NAME[key.proto] ?? 'TCP',
          flags: v.flags,
          affinityTimeout: v.affinity_timeout,
          backends: Array.from({ length: v.count + v.qcount }, (_, i) => s.get(i + 1) ?? 0),
        };
      })
      .sort((a, b) => a.id - b.id);
  }

  backends(): LbBackendRow[] {
    return this.backendMap
      .snapshot()
      .map(([id, b]) => ({
        id,
        address: formatIPv4(b.address),
        port: b.port,
        protocol: PROTO_NAME[b.proto] ?? 'TCP',
        state: b.flags === BlLbBackendState.BL_LB_BACKEND_TERMINATING ? ('terminating' as const) : ('active' as const),
      }))
      .sort((a, b) => a.id - b.id);
  }
}
