/**
 * The service maps of one node (abi/lb.h), typed: frontends with their
 * backend slots, backends, reverse NAT. A translation's changes are written
 * with batch map operations (one syscall per map and step), ordered so the
 * datapath never follows a master entry to a slot that is not there yet, nor
 * a slot to a missing backend:
 *   deleted frontends (master first, then slots and table: a full map needs
 *   their room) → backends → new slots → Maglev tables → reverse NAT →
 *   masters → slots past a shrunk count, tables no master reads any more →
 *   deleted backends.
 * A Maglev frontend (BL_LB_F_MAGLEV) has its M-slot table (src/service/
 * maglev.ts, built from its backends' address keys so every node's agrees)
 * in bl_lb4_maglev under its id, written in full before its master.
 * A mirror of what each frontend holds (id, flags, backend ids), of every
 * reverse-NAT entry and of every backend, read back from the maps at start,
 * spares every write a read and lets a write that would change nothing be
 * skipped: the maps are pinned and outlive the agent, so a restarted agent's
 * first pass over 50k Services rewrites only what differs.
 */
import type { LbBackendRow, LbDatapath, LbFrontendRow, LbUpdate } from '../agent/datapath.js';
import { formatIPv4, parseIPv4 } from '../ipam/cidr.js';
import {
  BL_LB4_BACKEND_CODEC,
  BL_LB4_KEY_CODEC,
  BL_LB4_MAGLEV_KEY_CODEC,
  BL_LB4_REVERSE_NAT_CODEC,
  BL_LB4_SERVICE_CODEC,
  BlLbBackendState,
  BlLbFlags,
  U16_CODEC,
  U32_CODEC,
  type BlLb4Backend,
  type BlLb4Key,
  type BlLb4MaglevKey,
  type BlLb4ReverseNat,
  type BlLb4Service,
} from './generated/abi.js';
import type { Datapath } from './loader.js';
import type { TypedMap } from './maps.js';
import { DEFAULT_MAGLEV_TABLE_SIZE, checkMaglevTableSize, maglevTable } from '../service/maglev.js';

const PROTO_NUM = { TCP: 6, UDP: 17 } as const;
const PROTO_NAME: Record<number, 'TCP' | 'UDP'> = { 6: 'TCP', 17: 'UDP' };

type FrontendRef = Pick<LbFrontendRow, 'address' | 'port' | 'protocol'>;
const keyText = (f: FrontendRef) => `${f.address}:${f.port}/${f.protocol}`;

export class KernelLb implements LbDatapath {
  private readonly services: TypedMap<BlLb4Key, BlLb4Service>;
  private readonly backendMap: TypedMap<number, BlLb4Backend>;
  private readonly revNat: TypedMap<number, BlLb4ReverseNat>;
  private readonly maglev: TypedMap<BlLb4MaglevKey, number>;
  /** M: the slots of every Maglev table (the datapath's bl_lb_maglev_table_size). */
  readonly maglevTableSize: number;
  /** What the maps hold per frontend: its id, flags, affinity timeout, backend ids (slots 1..n), whether it may have a Maglev table. */
  private readonly mirror = new Map<string, Mirrored>();
  /** Which frontend a reverse-NAT id belongs to. */
  private readonly idOwner = new Map<number, string>();
  /** What each reverse-NAT entry holds: address × 65536 + port. */
  private readonly revNatHeld = new Map<number, number>();
  /** What each backend entry holds: address:port/proto/flags. */
  private readonly backendHeld = new Map<number, string>();
  /** Writes skipped because the maps already held them (frontends, backends), since start: for tests and benchmarks. */
  readonly skipped = { frontends: 0, backends: 0 };

  /** `maglevTableSize` must be the M the datapath objects were loaded with. */
  constructor(dp: Datapath, opts: { maglevTableSize?: number } = {}) {
    this.maglevTableSize = opts.maglevTableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    checkMaglevTableSize(this.maglevTableSize);
    this.services = dp.map('bl_lb4_services', BL_LB4_KEY_CODEC, BL_LB4_SERVICE_CODEC);
    this.backendMap = dp.map('bl_lb4_backends', U32_CODEC, BL_LB4_BACKEND_CODEC);
    this.revNat = dp.map('bl_lb4_reverse_nat', U16_CODEC, BL_LB4_REVERSE_NAT_CODEC);
    this.maglev = dp.map('bl_lb4_maglev', BL_LB4_MAGLEV_KEY_CODEC, U32_CODEC);
    this.reload();
  }

  /** (Re)reads the mirror from the maps: at start, and when the resync found them differing from it. */
  reload(): void {
    this.mirror.clear();
    this.idOwner.clear();
    this.revNatHeld.clear();
    this.backendHeld.clear();
    for (const f of this.frontends()) {
      this.mirror.set(keyText(f), { id: f.id, slots: f.backends.length, maglev: isMaglev(f), flags: f.flags, affinityTimeout: f.affinityTimeout, proxyPort: f.proxyPort ?? 0, backends: f.backends });
      this.idOwner.set(f.id, keyText(f));
    }
    for (const [id, r] of this.revNat.snapshot()) this.revNatHeld.set(id, revNatWord(r));
    for (const [id, b] of this.backendMap.snapshot()) this.backendHeld.set(id, backendWord(b));
  }

  capacity(): { serviceEntries: number; backendEntries: number; maglevEntries: number; maglevTableSize: number } {
    return { serviceEntries: this.services.raw.maxEntries, backendEntries: this.backendMap.raw.maxEntries, maglevEntries: this.maglev.raw.maxEntries, maglevTableSize: this.maglevTableSize };
  }

  private key(f: FrontendRef, slot: number): BlLb4Key {
    return { address: parseIPv4(f.address), dport: f.port, backend_slot: slot, proto: PROTO_NUM[f.protocol] };
  }

  /** The M keys of frontend `id`'s Maglev table. */
  private maglevKeys(id: number): BlLb4MaglevKey[] {
    return Array.from({ length: this.maglevTableSize }, (_, slot) => ({ rev_nat_index: id, slot }));
  }

  /** Frontend f's Maglev table as map entries; none when it has no backend (the datapath then finds no backend either). */
  private maglevEntries(f: LbFrontendRow): [BlLb4MaglevKey, number][] {
    const keys = f.maglevKeys;
    if (keys && keys.length !== f.backends.length) throw new Error(`frontend ${keyText(f)}: ${keys.length} Maglev keys for ${f.backends.length} backends`);
    const table = maglevTable(f.backends.map((id, i) => (keys ? { id, key: keys[i]! } : { id })), this.maglevTableSize);
    return Array.from(table, (backendId, slot) => [{ rev_nat_index: f.id, slot }, backendId]);
  }

  /** False after a failed apply until one succeeds: the mirror may claim entries that never reached the maps, so nothing is skipped. */
  private trusted = true;

  apply(u: LbUpdate): void {
    const trusted = this.trusted;
    this.trusted = false;
    this.write(u, trusted);
    this.trusted = true;
  }

  private write(u: LbUpdate, trusted: boolean): void {
    // Deleted frontends first (master, then slots): in a full map their room is what new ones take.
    const goneMasters: BlLb4Key[] = [];
    const goneSlots: BlLb4Key[] = [];
    const goneRevNat: number[] = [];
    const goneTables: number[] = [];
    for (const f of u.deleteFrontends) {
      const k = keyText(f);
      const prev = this.mirror.get(k);
      if (!prev) continue;
      goneMasters.push(this.key(f, 0));
      for (let slot = 1; slot <= prev.slots; slot++) goneSlots.push(this.key(f, slot));
      if (prev.maglev) goneTables.push(prev.id);
      if (this.idOwner.get(prev.id) === k) {
        goneRevNat.push(prev.id);
        this.idOwner.delete(prev.id);
      }
      this.mirror.delete(k);
    }
    this.services.deleteMany(goneMasters);
    this.services.deleteMany(goneSlots);
    this.maglev.deleteMany(goneTables.filter((id) => !this.ownsMaglev(id)).flatMap((id) => this.maglevKeys(id)));
    this.revNat.deleteMany(goneRevNat);
    for (const id of goneRevNat) this.revNatHeld.delete(id);
    const backendWrites: [number, BlLb4Backend][] = [];
    for (const b of u.upsertBackends) {
      const v = backendValue(b);
      const w = backendWord(v);
      if (trusted && this.backendHeld.get(b.id) === w) {
        this.skipped.backends++;
        continue;
      }
      backendWrites.push([b.id, v]);
      this.backendHeld.set(b.id, w);
    }
    this.backendMap.setMany(backendWrites);

    const slots: [BlLb4Key, BlLb4Service][] = [];
    const masters: [BlLb4Key, BlLb4Service][] = [];
    const revNats: [number, BlLb4ReverseNat][] = [];
    const stale: BlLb4Key[] = [];
    const staleRevNat: number[] = [];
    const tables: [BlLb4MaglevKey, number][] = [];
    const staleTables: BlLb4MaglevKey[] = [];
    const emptiedTables: BlLb4MaglevKey[] = [];
    for (const f of u.upsertFrontends) {
      const k = keyText(f);
      const prev = this.mirror.get(k);
      const maglev = isMaglev(f);
      const address = parseIPv4(f.address);
      const rn = address * 65536 + f.port;
      // Already in the maps exactly (a restarted agent's first pass): nothing to write. Maglev
      // tables are not read back, so a Maglev frontend is always written.
      if (trusted && prev && !maglev && !prev.maglev && prev.id === f.id && prev.flags === f.flags && prev.affinityTimeout === f.affinityTimeout && prev.proxyPort === (f.proxyPort ?? 0) && sameIds(prev.backends, f.backends) && this.revNatHeld.get(f.id) === rn && this.idOwner.get(f.id) === k) {
        this.skipped.frontends++;
        continue;
      }
      if (maglev) {
        const entries = this.maglevEntries(f);
        for (const e of entries) tables.push(e);
        // No backend: no table; one written before goes (after the master says count 0).
        if (entries.length === 0 && prev?.maglev && prev.id === f.id) emptiedTables.push(...this.maglevKeys(f.id));
      }
      // Another id, or no longer Maglev: the old table goes once the new master is in.
      if (prev?.maglev && (prev.id !== f.id || !maglev)) staleTables.push(...this.maglevKeys(prev.id));
      const proto = PROTO_NUM[f.protocol];
      f.backends.forEach((id, i) => slots.push([{ address, dport: f.port, backend_slot: i + 1, proto }, { backend_id: id, count: 0, qcount: 0, rev_nat_index: f.id, flags: 0, affinity_timeout: 0 }]));
      if (!trusted || this.revNatHeld.get(f.id) !== rn) {
        revNats.push([f.id, { address, port: f.port }]);
        this.revNatHeld.set(f.id, rn);
      }
      // A routed (mesh) frontend's master names the node proxy's mesh listener port (BL_LB_F_L7).
      masters.push([{ address, dport: f.port, backend_slot: 0, proto }, { backend_id: f.proxyPort ?? 0, count: f.backends.length, qcount: 0, rev_nat_index: f.id, flags: f.flags, affinity_timeout: f.affinityTimeout }]);
      for (let slot = f.backends.length + 1; prev && slot <= prev.slots; slot++) stale.push(this.key(f, slot));
      if (prev && prev.id !== f.id && this.idOwner.get(prev.id) === k) {
        staleRevNat.push(prev.id);
        this.idOwner.delete(prev.id);
      }
      this.mirror.set(k, { id: f.id, slots: f.backends.length, maglev, flags: f.flags, affinityTimeout: f.affinityTimeout, proxyPort: f.proxyPort ?? 0, backends: f.backends });
      this.idOwner.set(f.id, k);
    }
    this.services.setMany(slots);
    this.maglev.setMany(tables);
    this.revNat.setMany(revNats);
    this.services.setMany(masters);
    this.services.deleteMany(stale);
    // A table of an id some frontend now owns (ids moved in this update) was just rewritten: keep it.
    this.maglev.deleteMany(staleTables.filter((key) => !this.ownsMaglev(key.rev_nat_index)));
    this.maglev.deleteMany(emptiedTables);
    const goneIds = staleRevNat.filter((id) => !this.idOwner.has(id));
    this.revNat.deleteMany(goneIds);
    for (const id of goneIds) this.revNatHeld.delete(id);

    this.backendMap.deleteMany(u.deleteBackends);
    for (const id of u.deleteBackends) this.backendHeld.delete(id);
  }

  /** Whether a Maglev frontend the maps hold now has id `id` (its table must stay). */
  private ownsMaglev(id: number): boolean {
    const owner = this.idOwner.get(id);
    const m = owner === undefined ? undefined : this.mirror.get(owner);
    return m !== undefined && m.id === id && m.maglev;
  }

  /** Frontend id's Maglev table as the map holds it (slot → backend id; 0 where a slot is missing), or undefined: none. */
  maglevTable(id: number): Uint32Array | undefined {
    const t = new Uint32Array(this.maglevTableSize);
    let found = 0;
    for (let slot = 0; slot < t.length; slot++) {
      const v = this.maglev.get({ rev_nat_index: id, slot });
      if (v !== undefined) (t[slot] = v), found++;
    }
    return found ? t : undefined;
  }

  frontends(): LbFrontendRow[] {
    // Sorted by key with the master (slot 0) first: one sweep groups each frontend's slots
    // (a per-entry string key and a map per frontend cost seconds at 250k entries).
    const entries = this.services.snapshot();
    entries.sort(([a], [b]) => a.address - b.address || a.dport - b.dport || a.proto - b.proto || a.backend_slot - b.backend_slot);
    const out: LbFrontendRow[] = [];
    let cur: { row: LbFrontendRow; key: BlLb4Key } | undefined;
    for (const [key, v] of entries) {
      if (key.backend_slot === 0) {
        cur = {
          key,
          row: {
            id: v.rev_nat_index,
            address: formatIPv4(key.address),
            port: key.dport,
            protocol: PROTO_NAME[key.proto] ?? 'TCP',
            flags: v.flags,
            affinityTimeout: v.affinity_timeout,
            backends: new Array<number>(v.count + v.qcount).fill(0),
          },
        };
        if (v.flags & BlLbFlags.BL_LB_F_L7) cur.row.proxyPort = v.backend_id;
        out.push(cur.row);
      } else if (cur && cur.key.address === key.address && cur.key.dport === key.dport && cur.key.proto === key.proto && key.backend_slot <= cur.row.backends.length) {
        cur.row.backends[key.backend_slot - 1] = v.backend_id;
      }
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** The frontends the maps hold as this process knows them (read once at start, then tracked): no map walk. */
  knownFrontends(): { address: string; port: number; protocol: 'TCP' | 'UDP'; id: number }[] {
    return [...this.mirror].map(([k, m]) => {
      const [addr, rest] = k.split(':') as [string, string];
      const [port, protocol] = rest.split('/') as [string, 'TCP' | 'UDP'];
      return { address: addr, port: Number(port), protocol, id: m.id };
    });
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

const isMaglev = (f: Pick<LbFrontendRow, 'flags'>) => (f.flags & BlLbFlags.BL_LB_F_MAGLEV) !== 0;

interface Mirrored {
  id: number;
  slots: number;
  maglev: boolean;
  flags: number;
  affinityTimeout: number;
  /** The master's backend_id: the mesh listener port of a BL_LB_F_L7 frontend, else 0. */
  proxyPort: number;
  /** Slot i+1's backend id (0 where the map has no such slot). */
  backends: readonly number[];
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const revNatWord = (r: BlLb4ReverseNat) => r.address * 65536 + r.port;
const backendWord = (b: BlLb4Backend) => `${b.address}:${b.port}/${b.proto}/${b.flags}`;

function backendValue(b: LbBackendRow): BlLb4Backend {
  return {
    address: parseIPv4(b.address),
    port: b.port,
    proto: PROTO_NUM[b.protocol],
    flags: b.state === 'terminating' ? BlLbBackendState.BL_LB_BACKEND_TERMINATING : BlLbBackendState.BL_LB_BACKEND_ACTIVE,
  };
}

/** What a frontend's flags say (struct bl_lb4_service.flags). */
export interface FrontendFlagFacts {
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalIP';
  affinity: boolean;
  /** externalTrafficPolicy (internalTrafficPolicy for ClusterIP) Local. */
  local: boolean;
  maglev: boolean;
  /** A routed (mesh) Service port's frontend: pods' connections go to the node proxy (ClusterIP TCP only). */
  l7?: boolean;
}

/** The flag bits of a frontend: the only place they are composed. */
export function encodeFrontendFlags(f: FrontendFlagFacts): number {
  return (
    (f.affinity ? BlLbFlags.BL_LB_F_AFFINITY : 0) |
    (f.type === 'NodePort' ? BlLbFlags.BL_LB_F_NODEPORT : 0) |
    (f.type === 'LoadBalancer' ? BlLbFlags.BL_LB_F_LOADBALANCER : 0) |
    (f.type === 'ExternalIP' ? BlLbFlags.BL_LB_F_EXTERNAL_IP : 0) |
    (f.local ? BlLbFlags.BL_LB_F_LOCAL : 0) |
    (f.maglev ? BlLbFlags.BL_LB_F_MAGLEV : 0) |
    (f.l7 ? BlLbFlags.BL_LB_F_L7 : 0)
  );
}

/** Cilium's words for a frontend's flags, e.g. `ClusterIP, non-routable`. */
export function frontendFlagNames(flags: number): string {
  const type = flags & BlLbFlags.BL_LB_F_NODEPORT ? 'NodePort' : flags & BlLbFlags.BL_LB_F_LOADBALANCER ? 'LoadBalancer' : flags & BlLbFlags.BL_LB_F_EXTERNAL_IP ? 'ExternalIPs' : 'ClusterIP';
  const out = [type];
  if (flags & BlLbFlags.BL_LB_F_AFFINITY) out.push('sessionAffinity');
  if (flags & BlLbFlags.BL_LB_F_LOCAL) out.push(type === 'ClusterIP' ? 'InternalLocal' : 'Local');
  if (flags & BlLbFlags.BL_LB_F_MAGLEV) out.push('Maglev');
  if (flags & BlLbFlags.BL_LB_F_L7) out.push('l7-load-balancer');
  if (type === 'ClusterIP') out.push('non-routable');
  return out.join(', ');
}
