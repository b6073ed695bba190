/* tsigkey.c - the tsig_keys entry grammar: "name:hmac-sha256:base64secret". */
#include "tsigkey.h"

#include <openssl/evp.h>
#include <string.h>

#include "err.h"

static int fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return RDNS_EINVAL;
}

int core_tsig_key_parse(const char *entry, core_tsig_key_t *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	const char *c1 = strchr(entry, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2)
		return fail(why, "not name:hmac-sha256:base64secret");
	size_t nlen = (size_t)(c1 - entry);
	char name[CORE_TSIG_KEYNAME_MAX + 2];
	if (nlen >= sizeof(name))
		return fail(why, "the key name is longer than 63 characters");
	memcpy(name, entry, nlen);
	name[nlen] = 0;
	if (!core_tsig_keyname_ok(name))
		return fail(why, "the key name is not 1 to 63 letters, digits, '-', '_' or '.' (no leading "
		                 "'.', no \"..\")");
	memcpy(out->name, name, nlen + 1);
	if ((size_t)(c2 - c1 - 1) != strlen("hmac-sha256") || strncmp(c1 + 1, "hmac-sha256", 11) != 0)
		return fail(why, "only the algorithm hmac-sha256 is supported");
	const char *b64 = c2 + 1;
	size_t blen = strlen(b64);
	if (blen == 0 || blen % 4 || blen > 4 * ((CORE_TSIG_SECRET_MAX + 2) / 3))
		return fail(why, "the secret is not base64 of 16 to 128 bytes");
	/* EVP_DecodeBlock skips blanks and is lax about '='; the grammar is not */
	size_t pad = 0;
	while (pad < 2 && b64[blen - 1 - pad] == '=')
		pad++;
	if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != blen - pad)
		return fail(why, "the secret is not base64");
	unsigned char dec[3 * ((CORE_TSIG_SECRET_MAX + 2) / 3)];
	int n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)blen);
	if (n < 0)
		return fail(why, "the secret is not base64");
	n -= (int)pad; /* EVP_DecodeBlock counts padding as zero bytes */
	if (n < CORE_TSIG_SECRET_MIN || n > CORE_TSIG_SECRET_MAX) {
		OPENSSL_cleanse(dec, sizeof(dec));
		return fail(why, "the secret must decode to 16 to 128 bytes");
	}
	memcpy(out->secret, dec, (size_t)n);
	out->secret_len = (size_t)n;
	OPENSSL_cleanse(dec, sizeof(dec));
	return RDNS_OK;
}
