/* SPDX-License-Identifier: MIT */
/*
 * tun_steer: the kernel's TUN device applies the software NIC's steering
 * decision (nic/steer.h) to the traffic it hands us, through a steering
 * eBPF program (TUNSETSTEERINGEBPF; Linux tun.c runs it on each skb the
 * stack transmits to the device, network header at offset 0 for IFF_TUN,
 * and queues the skb on (u16)return % attached queues).
 *
 * The program is generated here, instruction by instruction, for one
 * steering configuration: its ntuple rules are unrolled in location order,
 * then RSS XORs a precomputed Toeplitz table (t[i][byte_i], one 32-bit
 * share per input position and byte value, nic/steer.c) over the input
 * bytes and indexes the indirection table. Table and rules live in a
 * one-element array map. An update loads a new map and program and swaps
 * it in with one ioctl, so a frame always sees one whole configuration.
 *
 * Limits: at most TUN_STEER_MAX_RULES rules (set steer.max_rules to it, so
 * that rule inserts refuse with ENOSPC beyond); a drop rule cannot drop in
 * a steering program, so its frames go to TUN_STEER_DROP_QUEUE and the NIC
 * drops them after parsing (steer_decide() returns -1 for them). Packets
 * are read as steer_key_parse() reads them (IPv6 extension headers are
 * not walked). Loading needs CAP_BPF (or CAP_SYS_ADMIN).
 */
#ifndef DEVMEM_TUN_STEER_H
#define DEVMEM_TUN_STEER_H

#include <stddef.h>

#include "nic/steer.h"

#define TUN_STEER_MAX_RULES 256 /* rule checks unrolled in the program */
#define TUN_STEER_DROP_QUEUE 0  /* where drop rules' frames arrive */

struct tun_steer;

/* Attach a program steering as steer_init(nqueues) does to the TUN device
 * of tun_fd (any attached queue's fd; the program is device-wide). nqueues:
 * the queues the link was opened with. NULL and *err (-errno) on failure:
 * -EPERM without CAP_BPF, -EINVAL from a kernel without TUN steering. */
struct tun_steer *tun_steer_attach(int tun_fd, unsigned nqueues, int *err);
/* Make the device steer as st decides (after every RSS, rule or queue
 * count change). -ENOSPC: more than TUN_STEER_MAX_RULES rules; -EINVAL:
 * st has more queues than the link. The old program stays on failure. */
int tun_steer_update(struct tun_steer *ts, const struct steer *st);
/* Take the program off the device (the kernel falls back to its own flow
 * hash); tun_steer_update() attaches again. */
int tun_steer_detach(struct tun_steer *ts);
/* Detach and free. */
void tun_steer_free(struct tun_steer *ts);

/* Load (without attaching) the program for st: its fd, or -errno. When
 * log is given, a refusal leaves the verifier's log there. Tests run it
 * with BPF_PROG_TEST_RUN. */
int tun_steer_prog_load(const struct steer *st, char *log, size_t log_len);

#endif /* DEVMEM_TUN_STEER_H */
