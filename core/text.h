/* text.h - free-text names that people read (account names): what they may hold, and how
 * they sort. */
#ifndef RDNS_CORE_TEXT_H
#define RDNS_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Room for core_text_name_problem's reason. */
#define CORE_TEXT_WHY_MAX 160

/* Whether a valid UTF-8 string s is fit as a display name of at most max_chars
 * characters: not empty; no white space at either end (U+0020, U+00A0 no-break space
 * and the other Unicode White_Space characters); no control characters (C0, DEL, C1),
 * no line or paragraph separators (U+2028, U+2029), no format characters that change
 * what a reader sees without showing (bidirectional embeddings, overrides and isolates
 * U+202A-202E, U+2066-2069, marks U+200E U+200F U+061C, zero-width U+200B-200D,
 * U+2060-2064, U+FEFF, soft hyphen, tags U+E0000-E007F and the other Cf characters of
 * Unicode 15). Returns NULL when it is fit, else why writes the reason ("must not
 * contain U+202E (a bidirectional or invisible format character)") and is returned. */
const char *core_text_name_problem(const char *s, size_t max_chars, char why[CORE_TEXT_WHY_MAX]);

/* RFC 3629 section 4: whether s[0..n) is well-formed UTF-8 (no overlong forms, no
 * surrogates, at most U+10FFFF). */
bool core_text_utf8_valid(const char *s, size_t n);

/* The end of the range of strings that begin with the valid UTF-8 string prefix, in byte
 * order (PostgreSQL's C collation; for UTF-8 that is code point order): the least string
 * end such that every string t begins with prefix exactly when prefix <= t < end. It is
 * prefix with its last code point raised by one (past the surrogates), after any trailing
 * U+10FFFF are dropped, so it is valid UTF-8 and at most strlen(prefix) + 1 bytes. Writes
 * it, NUL-terminated, into out (cap bytes, at least strlen(prefix) + 2) and returns its
 * length; returns 0 and writes "" when there is no such string (prefix is empty or all
 * U+10FFFF: every string from prefix on begins with it). */
size_t core_text_prefix_end(const char *prefix, char *out, size_t cap);

#endif
