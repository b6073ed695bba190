/* metrics_cost.c - what rdns-api's counting costs per request, alone (bench A1's companion):
 * api_metrics_request() (the counter and the histogram every routed request feeds, with the
 * clock read the duration needs) called N times from 1 and from 2 threads at once, as
 * the workers of the two cores would (two clock reads included, as http.c does). Prints one
 * RESULT line of key=value pairs: CPU nanoseconds per request. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/metrics.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/metrics.h"

#define N 2000000

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *work(void *arg)
{
	uint64_t *cpu = arg, c0 = thread_cpu_ns();
	static const char *const routes[] = {"/v1/ptr/*", "/v1/ptr/*", "/v1/ptr/*", "/v1/requests",
	                                     "/healthz"};
	static const unsigned status[] = {200, 200, 404, 200, 200};
	for (int i = 0; i < N; i++) {
		uint64_t t0 = core_metrics_now_ns();
		api_metrics_request(routes[i % 5], "GET", status[i % 5], core_metrics_now_ns() - t0 + 40000);
	}
	*cpu = thread_cpu_ns() - c0;
	return NULL;
}

/* CPU ns per request, the mean over the threads (their own CPU time: on a shared machine
 * wall time would count the other processes' time slices too). */
static double run(int threads)
{
	pthread_t t[2];
	uint64_t cpu[2] = {0, 0};
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, work, &cpu[i]) != 0)
			exit(1);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (double)(cpu[0] + cpu[1]) / threads / N;
}

int main(void)
{
	rdns_conf_t conf;
	char msg[256];
	if (conf_load(&conf, NULL, msg, sizeof(msg)) != RDNS_OK || api_metrics_init(&conf) != RDNS_OK) {
		fprintf(stderr, "metrics_cost: %s\n", msg);
		return 1;
	}
	run(1); /* warm: the series exist */
	double one = run(1), two = run(2);
	core_strbuf_t b = {0};
	api_metrics_expose(&b);
	/* four runs of N in all (warm-up, 1 thread, 2 threads), 2/5 of them a ptr GET answered 200 */
	const char *want =
	    "rdns_api_http_requests_total{route=\"/v1/ptr/*\",method=\"GET\",status=\"200\"} 3200000\n";
	int ok = b.p && strstr(b.p, want) != NULL;
	printf("RESULT ns_per_request_1t=%.1f ns_per_request_2t=%.1f counts_ok=%d\n", one, two, ok);
	free(b.p);
	api_metrics_free();
	conf_free(&conf);
	return ok ? 0 : 1;
}
