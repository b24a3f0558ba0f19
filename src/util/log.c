/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

int devmem_log_enabled;

__attribute__((constructor)) static void devmem_log_init(void)
{
	const char *e = getenv("DEVMEM_DEBUG");
	devmem_log_enabled = e && *e && *e != '0';
}

void devmem_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("devmem: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
