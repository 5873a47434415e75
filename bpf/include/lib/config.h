/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/config.h: lets helpers read the object's load-time configuration.
 * Each entry-point file (host.bpf.c, …) defines bl_config with its defaults;
 * this is only the declaration.
 */
#pragma once

#include "abi/config.h"

/* In .rodata: frozen at load, so the verifier sees its fields as constants. */
extern const volatile struct bl_datapath_config bl_config;
