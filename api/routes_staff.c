/* routes_staff.c - staff routes (added with the PTR API). */
#include "api/http.h"

const api_route_t api_routes_staff[] = {
	{NULL, NULL, 0, false, NULL},
};
