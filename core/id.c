/* id.c - the decimal id grammar of the API: path segments, query ids and token texts. */
#include "id.h"

#include <string.h>

size_t core_id_span(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > CORE_ID_MAX_DIGITS || s[0] == '0')
		return 0;
	return n;
}
