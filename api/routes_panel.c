/* routes_panel.c - the web panel: its embedded files under /panel/, and / redirecting there. */
#include <stdio.h>
#include <string.h>

#include "api/panel_files.h"
#include "api/routes.h"

/* CSP Level 3 for every panel answer: only this origin's files, no inline script or
 * style, no plugins, no <base>, forms post here only; framing by panel_frame_ancestors. */
#define PANEL_CSP                                                                                            \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "      \
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors"

const api_panel_file_t *api_panel_file(const char *name)
{
	for (const api_panel_file_t *f = api_panel_files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static bool panel_on(const api_req_t *r)
{
	return r->conf && strcmp(r->conf->panel, "off") != 0;
}

/* The security headers of every panel answer. false when they do not fit the answer's
 * header buffer (then the answer must not go out without them). */
static bool panel_headers(api_req_t *r)
{
	char csp[sizeof(r->hdrs)];
	size_t n = (size_t)snprintf(csp, sizeof(csp), "%s", PANEL_CSP);
	const conf_list_t *fa = r->conf ? &r->conf->panel_frame_ancestors : NULL;
	for (size_t i = 0; fa && i < fa->n && n < sizeof(csp); i++)
		n += (size_t)snprintf(csp + n, sizeof(csp) - n, " %s", fa->v[i]);
	if ((!fa || fa->n == 0) && n < sizeof(csp))
		n += (size_t)snprintf(csp + n, sizeof(csp) - n, " 'none'");
	if (n >= sizeof(csp))
		return false;
	size_t before = r->hdrs_len;
	api_header(r, "Content-Security-Policy", csp);
	api_header(r, "X-Content-Type-Options", "nosniff");
	api_header(r, "Referrer-Policy", "no-referrer");
	api_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	return r->hdrs_len > before && strstr(r->hdrs, "Referrer-Policy:") != NULL;
}

/* Answer with the panel's security headers, or a 500 when they do not fit. */
static void panel_secure(api_req_t *r)
{
	if (!panel_headers(r))
		api_problem(r, 500, NULL, "Internal Server Error", NULL, "%s",
		            "the panel's security headers do not fit");
}

static void panel_answer_file(api_req_t *r, const char *name)
{
	const api_panel_file_t *f = api_panel_file(name);
	if (!panel_on(r))
		api_problem(r, 404, "panel-off", "Not Found", NULL, "%s", "panel = off on this server");
	else if (!f)
		api_problem(r, 404, NULL, "Not Found", NULL, "no panel file '%.64s'", name);
	else
		api_raw(r, 200, f->ctype, f->data, f->len);
	panel_secure(r);
}

static void panel_redirect(api_req_t *r)
{
	if (!panel_on(r)) {
		api_problem(r, 404, NULL, "Not Found", NULL, "no route %s", r->path);
		return;
	}
	static const char body[] = "The panel is at /panel/\n";
	api_raw(r, 302, "text/plain; charset=utf-8", body, sizeof(body) - 1);
	api_header(r, "Location", "/panel/");
	panel_secure(r);
}

static void panel_index(api_req_t *r)
{
	panel_answer_file(r, "index.html");
}

static void panel_file(api_req_t *r)
{
	panel_answer_file(r, r->params[0]);
}

const api_route_t api_routes_panel[] = {
    {"GET", "/", API_AUTH_NONE, false, panel_redirect},
    {"GET", "/panel", API_AUTH_NONE, false, panel_redirect},
    {"GET", "/panel/", API_AUTH_NONE, false, panel_index},
    {"GET", "/panel/*", API_AUTH_NONE, false, panel_file},
    {NULL, NULL, 0, false, NULL},
};
