/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bad.bpf.c: a program the verifier must reject, for the loader's test of
 * verifier errors (test/privileged/datapath-verifier.test.ts). It reads the
 * first packet byte without proving the packet is that long: the verifier
 * answers "invalid access to packet". Not built by `make bpf`; the test
 * compiles it with clang into a temporary directory.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int bl_bad_unchecked_read(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;

	/* Deliberately no `if (data + 1 > data_end) return ...;` */
	return *(__u8 *)data;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
