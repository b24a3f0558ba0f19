/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "devmem/devmem.h"
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

static _Thread_local char last_error[256];

int devmem_reason(int neg_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return neg_errno;
}

const char *devmem_last_error(void)
{
	return last_error;
}
