/* SPDX-License-Identifier: MIT */
/* Minimal test helpers: each test is a program, exit 0 pass, 1 fail, 77 skip. */
#ifndef DEVMEM_TEST_CHECK_H
#define DEVMEM_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,  \
				__LINE__, #cond);                               \
			check_failures++;                                       \
		}                                                               \
	} while (0)

#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		if (check_a_ != check_b_) {                                     \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s "     \
				"(%lld != %lld)\n", __FILE__, __LINE__, #a, #b,  \
				check_a_, check_b_);                            \
			check_failures++;                                       \
		}                                                               \
	} while (0)

#define CHECK_MEM(a, b, n)                                                      \
	do {                                                                    \
		if (memcmp((a), (b), (n)) != 0) {                               \
			fprintf(stderr, "%s:%d: CHECK_MEM failed: %s vs %s\n",  \
				__FILE__, __LINE__, #a, #b);                    \
			check_failures++;                                       \
		}                                                               \
	} while (0)

#define RUN(fn)                                                                 \
	do {                                                                    \
		int check_before_ = check_failures;                             \
		fn();                                                           \
		fprintf(stderr, "%s %s\n",                                      \
			check_failures == check_before_ ? "ok  " : "FAIL", #fn);  \
	} while (0)

#define CHECK_DONE() (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)

#define SKIP(why)                                                               \
	do {                                                                    \
		fprintf(stderr, "SKIP: %s\n", why);                             \
		exit(77);                                                       \
	} while (0)

#endif
