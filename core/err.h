/* err.h - the one error enum of rdns and its messages. */
#ifndef RDNS_CORE_ERR_H
#define RDNS_CORE_ERR_H

typedef enum {
	RDNS_OK = 0,
	RDNS_EINVAL = -1,      /* bad input */
	RDNS_ENOMEM = -2,      /* out of memory */
	RDNS_ENOTFOUND = -3,   /* no such object */
	RDNS_EDB = -4,         /* database unavailable or failed */
	RDNS_ETIMEOUT = -5,    /* deadline passed */
	RDNS_EEXIST = -6,      /* already exists / conflicts */
	RDNS_EIO = -7,         /* file or socket error */
	RDNS_EDENIED = -8,     /* not allowed */
	RDNS_ERANGE = -9,      /* out of range / does not fit */
	RDNS_ESPACE = -10,     /* output buffer too small */
	RDNS_ECONFIG = -11,    /* configuration error */
	RDNS_EDNS = -12,       /* DNS protocol error */
	RDNS_ELIMIT = -13,     /* rate or size limit hit */
	RDNS_EAGAIN = -14,     /* changed meanwhile or not done yet: try again */
	RDNS_EDELEGATED = -15, /* the address is inside a delegation: not ours to change */
} rdns_err_t;

/* Static text for an rdns_err_t (never NULL). */
const char *rdns_strerror(int err);

#endif
