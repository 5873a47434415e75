/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/hash.h: the flow hash Maglev selection indexes its table with.
 *
 * Bob Jenkins' lookup3 final mix over three 32-bit words (the kernel's
 * jhash_3words, written out here): a handful of adds, xors and rotates, no
 * loop and no table, so it costs the verifier nothing, and every input bit
 * reaches every output bit, so flows that differ only in a source port land
 * on unrelated slots. It is also trivial to reproduce outside the kernel
 * (the packet-fixture tests do, in TypeScript). Not a keyed hash: a client
 * that can pick its ports can pick its backend, as with any Maglev.
 */
#pragma once

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define BL_JHASH_INITVAL	0xdeadbeef

static __always_inline __u32 bl_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* lookup3's final(a, b, c): c is the result. */
static __always_inline __u32 bl_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 seed)
{
	a += BL_JHASH_INITVAL + (3 << 2) + seed;
	b += BL_JHASH_INITVAL + (3 << 2) + seed;
	c += BL_JHASH_INITVAL + (3 << 2) + seed;

	c ^= b; c -= bl_rol32(b, 14);
	a ^= c; a -= bl_rol32(c, 11);
	b ^= a; b -= bl_rol32(a, 25);
	c ^= b; c -= bl_rol32(b, 16);
	a ^= c; a -= bl_rol32(c, 4);
	b ^= a; b -= bl_rol32(a, 14);
	c ^= b; c -= bl_rol32(b, 24);
	return c;
}
