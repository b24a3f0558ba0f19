/* SPDX-License-Identifier: MIT */
/* Names for the wire layer's error codes, for logs and test output. */
#include "wire/wire.h"

const char *wire_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case WIRE_ETRUNC:
		return "truncated: buffer shorter than the header says";
	case WIRE_EVERSION:
		return "wrong IP version";
	case WIRE_EBADLEN:
		return "bad length field";
	case WIRE_ECSUM:
		return "bad header checksum";
	case WIRE_EBADOPT:
		return "malformed option";
	case WIRE_EFRAG:
		return "fragment (not supported)";
	case WIRE_EUNSUPP:
		return "unsupported header chain";
	}
	return err > 0 ? "not an error (header length)" : "unknown wire error";
}
