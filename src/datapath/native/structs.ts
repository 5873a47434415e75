/**
 * The C structs and constants the native boundary passes to libbpf, laid out
 * exactly as libbpf 1.1.2's headers declare them (/usr/include/bpf/libbpf.h,
 * bpf.h) and the kernel UAPI (linux/bpf.h). Every libbpf "opts" struct starts
 * with `size_t sz` = sizeof(struct), which libbpf uses to tell old callers from
 * new ones, so these sizes are checked by a unit test (structs.test.ts).
 *
 * Only koffi type definitions live here (no library is loaded), so importing
 * this file needs neither root nor libbpf.
 */
import koffi from 'koffi';

/** struct bpf_tc_hook { size_t sz; int ifindex; enum bpf_tc_attach_point attach_point; __u32 parent; size_t :0; } — 24 bytes. */
export const BpfTcHook = koffi.struct('bl_bpf_tc_hook', {
  sz: 'size_t',
  ifindex: 'int',
  attach_point: 'int',
  parent: 'uint32_t',
});

/** struct bpf_tc_opts { size_t sz; int prog_fd; __u32 flags, prog_id, handle, priority; size_t :0; } — 32 bytes. */
export const BpfTcOpts = koffi.struct('bl_bpf_tc_opts', {
  sz: 'size_t',
  prog_fd: 'int',
  flags: 'uint32_t',
  prog_id: 'uint32_t',
  handle: 'uint32_t',
  priority: 'uint32_t',
});

/** struct bpf_test_run_opts (bpf.h) — 80 bytes. Pointers are native addresses (koffi.alloc), never JS buffers. */
export const BpfTestRunOpts = koffi.struct('bl_bpf_test_run_opts', {
  sz: 'size_t',
  data_in: 'void *',
  data_out: 'void *',
  data_size_in: 'uint32_t',
  data_size_out: 'uint32_t',
  ctx_in: 'void *',
  ctx_out: 'void *',
  ctx_size_in: 'uint32_t',
  ctx_size_out: 'uint32_t',
  retval: 'uint32_t',
  repeat: 'int',
  duration: 'uint32_t',
  flags: 'uint32_t',
  cpu: 'uint32_t',
  batch_size: 'uint32_t',
});

/** struct bpf_map_batch_opts { size_t sz; __u64 elem_flags; __u64 flags; } — 24 bytes. */
export const BpfMapBatchOpts = koffi.struct('bl_bpf_map_batch_opts', {
  sz: 'size_t',
  elem_flags: 'uint64_t',
  flags: 'uint64_t',
});

/** Sizes libbpf 1.1.2 was compiled with (x86-64), as `sizeof` reports them in C. */
export const LIBBPF_STRUCT_SIZES = {
  bpf_tc_hook: 24,
  bpf_tc_opts: 32,
  bpf_test_run_opts: 80,
  bpf_map_batch_opts: 24,
} as const;

/** sizeof(struct __sk_buff) in the UAPI headers we build against; a zeroed one is a valid test-run context. */
export const SK_BUFF_SIZE = 192;

/** Leading fields of struct bpf_map_info (what bpf_obj_get_info_by_fd fills for a map). */
export const MAP_INFO = { size: 128, type: 0, id: 4, keySize: 8, valueSize: 12, maxEntries: 16, flags: 20, name: 24, nameLen: 16 } as const;

/** enum bpf_prog_type values we use. */
export const ProgType = {
  SOCKET_FILTER: 1,
  SCHED_CLS: 3,
  SCHED_ACT: 4,
  XDP: 6,
  CGROUP_SKB: 8,
  CGROUP_SOCK: 9,
  CGROUP_SOCK_ADDR: 18,
} as const;

/** enum bpf_map_type values we use. */
export const MapType = {
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  RINGBUF: 27,
} as const;

/** Map types whose values are one slot per possible CPU. */
export const PER_CPU_MAP_TYPES: ReadonlySet<number> = new Set([
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
  21, // PERCPU_CGROUP_STORAGE
]);

/** Human name of a map type, for messages. */
export function mapTypeName(type: number): string {
  for (const [name, value] of Object.entries(MapType)) if (value === type) return name.toLowerCase();
  return `type ${type}`;
}

/** enum bpf_func_id values we probe for. */
export const HelperId = {
  bpf_skb_set_tunnel_key: 21,
  bpf_redirect: 23,
  bpf_fib_lookup: 69,
  bpf_ringbuf_output: 130,
  bpf_ringbuf_reserve: 131,
  bpf_ringbuf_submit: 132,
  bpf_redirect_neigh: 152,
  bpf_redirect_peer: 155,
  bpf_ktime_get_coarse_ns: 160,
} as const;

/** enum bpf_tc_attach_point. */
export const BPF_TC_INGRESS = 1;
export const BPF_TC_EGRESS = 2;
/** enum bpf_tc_flags. */
export const BPF_TC_F_REPLACE = 1;

/** bpf_map_update_elem flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** BTF kinds (linux/btf.h). */
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;

/** statfs(2) f_type of a bpffs mount (BPF_FS_MAGIC). */
export const BPF_FS_MAGIC = 0xcafe4a11;

/** libbpf print levels (enum libbpf_print_level). */
export const LIBBPF_WARN = 0;
export const LIBBPF_INFO = 1;
export const LIBBPF_DEBUG = 2;
