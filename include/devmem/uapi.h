/* SPDX-License-Identifier: MIT */
/*
 * Kernel-compatible values and structs of device-memory TCP (Linux 6.12 -
 * 6.18, asm-generic numbering as used on x86-64). The machines this builds on
 * carry older userspace headers, so every value is guarded: a program that
 * includes the kernel's own <linux/uio.h> or <asm-generic/socket.h> first gets
 * identical definitions.
 */
#ifndef DEVMEM_UAPI_H
#define DEVMEM_UAPI_H

#include <stdint.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef SO_DEVMEM_LINEAR
#define SO_DEVMEM_LINEAR 78
#define SCM_DEVMEM_LINEAR SO_DEVMEM_LINEAR
#endif
#ifndef SO_DEVMEM_DMABUF
#define SO_DEVMEM_DMABUF 79
#define SCM_DEVMEM_DMABUF SO_DEVMEM_DMABUF
#endif
#ifndef SO_DEVMEM_DONTNEED
#define SO_DEVMEM_DONTNEED 80
#endif
#ifndef MSG_SOCK_DEVMEM
#define MSG_SOCK_DEVMEM 0x2000000
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif

/*
 * Kernel-internal errno that recvmsg(MSG_SOCK_DEVMEM) reports when the control
 * buffer cannot hold the next cmsg whole (put_cmsg_notrunc). Userspace sees
 * the raw number, so we return the same one.
 */
#ifndef ETOOSMALL
#define ETOOSMALL 525
#endif

/* Limits of SO_DEVMEM_DONTNEED (net/core/sock.c). */
#define DEVMEM_DONTNEED_MAX_RANGES 128
#define DEVMEM_DONTNEED_MAX_FRAGS 1024

#ifndef DEVMEM_HAVE_KERNEL_DMABUF_CMSG
/* One per device-memory frag, cmsg SOL_SOCKET/SCM_DEVMEM_DMABUF. 24 bytes. */
struct dmabuf_cmsg {
	uint64_t frag_offset; /* offset of the frag inside the dmabuf */
	uint32_t frag_size;   /* bytes in the frag */
	uint32_t frag_token;  /* give back with SO_DEVMEM_DONTNEED */
	uint32_t dmabuf_id;   /* binding id the frag belongs to */
	uint32_t flags;       /* reserved, 0 */
};

/* A range of tokens for SO_DEVMEM_DONTNEED. 8 bytes. */
struct dmabuf_token {
	uint32_t token_start;
	uint32_t token_count;
};
#endif

#ifdef __cplusplus
static_assert(sizeof(struct dmabuf_cmsg) == 24, "dmabuf_cmsg layout");
static_assert(sizeof(struct dmabuf_token) == 8, "dmabuf_token layout");
#else
_Static_assert(sizeof(struct dmabuf_cmsg) == 24, "dmabuf_cmsg layout");
_Static_assert(sizeof(struct dmabuf_token) == 8, "dmabuf_token layout");
#endif

#endif /* DEVMEM_UAPI_H */
