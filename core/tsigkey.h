/* tsigkey.h - the tsig_keys entry grammar: "name:hmac-sha256:base64secret". */
#ifndef RDNS_CORE_TSIGKEY_H
#define RDNS_CORE_TSIGKEY_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

/* Most entries in tsig_keys. */
#define CORE_TSIG_KEYS_MAX 32
/* Secret lengths we accept, in bytes: at least half the HMAC-SHA256 output
 * (RFC 8945 §6 asks for no less than the output, 32, and warns below half),
 * at most what the key slots hold. */
#define CORE_TSIG_SECRET_MIN 16
#define CORE_TSIG_SECRET_MAX 128

typedef struct {
	char name[CORE_TSIG_KEYNAME_MAX + 1];
	uint8_t secret[CORE_TSIG_SECRET_MAX];
	size_t secret_len;
} core_tsig_key_t;

/* Parse one tsig_keys entry: a name core_tsig_keyname_ok() accepts, the
 * algorithm (hmac-sha256, the one TSIG algorithm rdns speaks),
 * and standard padded base64 decoding to CORE_TSIG_SECRET_MIN..MAX bytes.
 * Returns RDNS_OK, or RDNS_EINVAL with *why (if not NULL) set to a sentence that
 * never contains the secret; out->name holds the name whenever it was valid,
 * "" otherwise. */
int core_tsig_key_parse(const char *entry, core_tsig_key_t *out, const char **why);

#endif
