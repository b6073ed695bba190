/* routes_ptr.c - customer PTR routes (added with the PTR API). */
#include "api/http.h"

const api_route_t api_routes_ptr[] = {
	{NULL, NULL, 0, false, NULL},
};
