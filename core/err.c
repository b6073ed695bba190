/* err.c - messages for rdns_err_t. */
#include "err.h"

const char *rdns_strerror(int err)
{
	switch (err) {
	case RDNS_OK: return "ok";
	case RDNS_EINVAL: return "invalid input";
	case RDNS_ENOMEM: return "out of memory";
	case RDNS_ENOTFOUND: return "not found";
	case RDNS_EDB: return "database error";
	case RDNS_ETIMEOUT: return "timed out";
	case RDNS_EEXIST: return "already exists";
	case RDNS_EIO: return "I/O error";
	case RDNS_EDENIED: return "not allowed";
	case RDNS_ERANGE: return "out of range";
	case RDNS_ESPACE: return "buffer too small";
	case RDNS_ECONFIG: return "configuration error";
	case RDNS_EDNS: return "DNS error";
	case RDNS_ELIMIT: return "limit exceeded";
	case RDNS_EAGAIN: return "try again";
	case RDNS_EDELEGATED: return "delegated";
	}
	return "unknown error";
}
