/* panel_files.h - the web panel's files embedded at build time (web/embed.sh writes the table). */
#ifndef RDNS_API_PANEL_FILES_H
#define RDNS_API_PANEL_FILES_H

#include <stddef.h>

typedef struct {
	const char *name; /* "app.js": served as /panel/app.js */
	const char *ctype;
	const char *data;
	size_t len;
} api_panel_file_t;

/* Every file of web/, ending with a NULL name. */
extern const api_panel_file_t api_panel_files[];

/* The file called name, or NULL. */
const api_panel_file_t *api_panel_file(const char *name);

#endif
