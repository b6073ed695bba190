# rdns - reverse-DNS management server. GNU Make + pkg-config.
# make            build build/rdns-api, build/rdns-zonegen and build/rdns-verifier
# make test       install deps, run unit tests (ASan+UBSan) and system tests
# make run        install deps, start the whole system on a private PostgreSQL and knotd (deploy/run.sh)
# make bench      run the benchmarks in bench/ (about 6 minutes; not the soak)
# make soak       the 10-minute soak of bench/ (mixed traffic with attackers, issue #13)
# make install    binaries, units, users, sample config, examples (PREFIX, DESTDIR); make uninstall

CC      ?= cc
PYTHON  := /usr/bin/python3
PKGS    := libpq jansson ldns inih libcrypto gnutls
# libspf2 (the spf diagnostic, issue #18: verify/spf.c) ships no pkg-config file; only what
# runs the diagnostics links it (rdns-api, the unit tests, the fuzz targets), not rdns-zonegen
SPF_LIBS := -lspf2
WARN    := -Wall -Wextra -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wold-style-definition -Wundef -Wshadow -Wno-unused-parameter -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -I. -Ibuild/gen $(WARN) $(CFLAGS) -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

CORE_SRC := $(wildcard core/*.c)
DB_SRC   := $(wildcard db/*.c) build/gen/migrations.c build/gen/functions.c
VF_SRC   := $(wildcard verify/*.c)
API_SRC  := $(filter-out api/main.c,$(wildcard api/*.c)) build/gen/openapi.c build/gen/web.c
ZG_SRC   := $(filter-out zonegen/main.c,$(wildcard zonegen/*.c))
VR_SRC   := $(filter-out verifier/main.c,$(wildcard verifier/*.c)) # rdns-verifier (issue 18)
LIB_SRC  := $(CORE_SRC) $(DB_SRC) $(VF_SRC) $(API_SRC) $(ZG_SRC) $(VR_SRC)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

# obj(dir, sources)
obj = $(patsubst %.c,$(1)/%.o,$(patsubst build/gen/%,gen/%,$(2)))

REL_OBJ  := $(call obj,build/obj,$(LIB_SRC))
SAN_OBJ  := $(call obj,build/asan,$(LIB_SRC))

.PHONY: FORCE all install uninstall deps deps-build deps-run fuzz-deps test unit system run bench soak fuzz format format-check clean asan
all: build/rdns-api build/rdns-zonegen build/rdns-verifier

deps:
	@./deploy/install-deps.sh test
deps-build:
	@./deploy/install-deps.sh build
deps-run:
	@./deploy/install-deps.sh run

# The SQL embedded in the binaries: db/migrations/*.sql and db/functions/*.sql, in name
# order. A list file per folder, rewritten only when the set of files changes, makes a
# removed or renamed file regenerate the table too (its mtime cannot).
MIGRATION_SQL := $(sort $(wildcard db/migrations/*.sql))
FUNCTION_SQL  := $(sort $(wildcard db/functions/*.sql))
sql_list = @mkdir -p $(dir $(1)); echo '$(2)' | cmp -s - $(1) || echo '$(2)' > $(1)
build/gen/migrations.list: FORCE
	$(call sql_list,$@,$(MIGRATION_SQL))
build/gen/functions.list: FORCE
	$(call sql_list,$@,$(FUNCTION_SQL))
build/gen/migrations.c: $(MIGRATION_SQL) build/gen/migrations.list db/embed.sh
	./db/embed.sh db_migrations $(MIGRATION_SQL) > $@.tmp && mv $@.tmp $@
build/gen/functions.c: $(FUNCTION_SQL) build/gen/functions.list db/embed.sh
	./db/embed.sh db_functions $(FUNCTION_SQL) > $@.tmp && mv $@.tmp $@

build/gen/openapi.c: api/openapi.yaml api/embed-openapi.sh
	@mkdir -p $(dir $@)
	./api/embed-openapi.sh $< > $@.tmp && mv $@.tmp $@

# The web panel (issue 15): web/* embedded in rdns-api, served under /panel/; the list file
# regenerates the table when a file is added or removed.
WEB_FILES := $(sort $(wildcard web/*.html web/*.css web/*.js web/*.svg))
build/gen/web.list: FORCE
	$(call sql_list,$@,$(WEB_FILES))
build/gen/web.c: $(WEB_FILES) build/gen/web.list web/embed.sh
	./web/embed.sh $(WEB_FILES) > $@.tmp && mv $@.tmp $@

build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
build/asan/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<
build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<

build/librdns.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^
build/asan/librdns.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/rdns-api: build/obj/api/main.o build/librdns.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL) $(SPF_LIBS)
build/rdns-zonegen: build/obj/zonegen/main.o build/librdns.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)
build/asan/rdns-api: build/asan/api/main.o build/asan/librdns.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS_ALL) $(SPF_LIBS)
build/asan/rdns-zonegen: build/asan/zonegen/main.o build/asan/librdns.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS_ALL)
# rdns-verifier (issue 18)
build/rdns-verifier: build/obj/verifier/main.o build/librdns.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)
build/asan/rdns-verifier: build/asan/verifier/main.o build/asan/librdns.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS_ALL)
asan: build/asan/rdns-api build/asan/rdns-zonegen build/asan/rdns-verifier

UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
build/asan/tests/%: build/asan/tests/unit/%.o build/asan/librdns.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS_ALL) $(SPF_LIBS) -lcmocka

unit: deps-build $(UNIT_BIN)
	@fail=0; total=0; for t in $(UNIT_BIN); do total=$$((total+1)); \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  $$t > $$t.log 2>&1 && ! grep -qE '^\[ +(FAILED|ERROR) +\]' $$t.log || { fail=$$((fail+1)); cat $$t.log; }; \
	  grep -E '^\[  (PASSED|FAILED)' $$t.log | sed "s|^|$$(basename $$t): |"; done; \
	  echo "unit: $$total programs, $$fail failed"; [ $$fail -eq 0 ]

# The system tests run as TEST_JOBS pytest-xdist workers, a test module to a worker (its
# fixtures are the module's: a database, daemons; each worker has its own PostgreSQL cluster,
# knotd and ports, tests/system/harness.py), at most 4. TEST_JOBS=1 (or no
# python3-pytest-xdist) runs them in one process.
TEST_JOBS ?= 2
system: all asan
	@if [ "$(TEST_JOBS)" -gt 1 ] && $(PYTHON) -c 'import xdist' 2>/dev/null; then \
	  par="-n $(TEST_JOBS) --dist loadfile"; else par=""; fi; \
	cd tests/system && RDNS_BUILD=$(CURDIR)/build $(PYTHON) -m pytest -q -ra $$par $(PYTEST_ARGS)

test: deps
	@$(MAKE) --no-print-directory -j2 all asan $(UNIT_BIN)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory system

run: deps-run all
	./deploy/run.sh

bench: all build/metrics_cost
	@./deploy/install-deps.sh bench
	./bench/run.sh

soak: all
	@./deploy/install-deps.sh bench
	./bench/run.sh soak

# bench A1's companion: what counting costs per request, alone (bench/metrics_cost.c)
build/metrics_cost: bench/metrics_cost.c build/librdns.a
	$(CC) $(ALL_CFLAGS) -o $@ $< build/librdns.a $(LDLIBS_ALL)

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz-deps:
	@./deploy/install-deps.sh fuzz
# make fuzz: builds every target and runs each for FUZZ_SECONDS (default 30) from its seeds
# (tests/fuzz/corpus_<name>, read only; what it finds grows in build/fuzz/corpus_<name>).
FUZZ_SECONDS ?= 30
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
fuzz: fuzz-deps $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus_$$n; \
	  echo "fuzz: $$f for $(FUZZ_SECONDS) s (log: $$f.log)"; \
	  if ! $$f -max_total_time=$(FUZZ_SECONDS) -max_len=20000 build/fuzz/corpus_$$n \
	       tests/fuzz/corpus_$$n > $$f.log 2>&1; then tail -40 $$f.log; exit 1; fi; \
	  grep -E '^Done' $$f.log; \
	done
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) build/gen/migrations.c
	@mkdir -p $(dir $@)
	clang -std=c17 -D_GNU_SOURCE -I. -Ibuild/gen -g -O1 -fsanitize=fuzzer,address,undefined \
	  $(shell pkg-config --cflags $(PKGS)) -o $@ $< $(LIB_SRC) $(LDLIBS_ALL) $(SPF_LIBS)

FMT_SRC = $(wildcard core/*.[ch] db/*.[ch] verify/*.[ch] api/*.[ch] zonegen/*.[ch] verifier/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch])
format: fuzz-deps
	clang-format -i $(FMT_SRC)
format-check: fuzz-deps
	clang-format --dry-run --Werror $(FMT_SRC)

# make install [PREFIX=/usr/local] [DESTDIR=]. Daemons go to sbin (FHS: system daemons and
# administration tools, where knotd, nsd and named live; nobody but root and systemd runs
# them). The units are generated with SBINDIR and SYSCONFDIR substituted. sysusers.d is
# read from /usr/lib and /etc only (not /usr/local/lib), hence /etc unless PREFIX=/usr.
# The binaries embed their SQL and OpenAPI: nothing else is needed on disk. An existing
# rdns.conf is never overwritten: the sample then goes beside it as rdns.conf.sample.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
DOCDIR      ?= $(PREFIX)/share/doc/rdns
ifeq ($(PREFIX),/usr)
SYSUSERSDIR ?= /usr/lib/sysusers.d
else
SYSUSERSDIR ?= $(SYSCONFDIR)/sysusers.d
endif
UNITS    := rdns-api.service rdns-zonegen.service rdns-verifier.service
DNS_DOCS := $(notdir $(wildcard deploy/dns/*.conf))
CONF     := $(DESTDIR)$(SYSCONFDIR)/rdns/rdns.conf

build/systemd/%.service: deploy/systemd/%.service.in FORCE
	@mkdir -p $(dir $@)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@.tmp && mv $@.tmp $@

install: all $(addprefix build/systemd/,$(UNITS))
	install -D -m 0755 build/rdns-api $(DESTDIR)$(SBINDIR)/rdns-api
	install -D -m 0755 build/rdns-zonegen $(DESTDIR)$(SBINDIR)/rdns-zonegen
	install -D -m 0755 build/rdns-verifier $(DESTDIR)$(SBINDIR)/rdns-verifier
	for u in $(UNITS); do install -D -m 0644 build/systemd/$$u $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	install -D -m 0644 deploy/sysusers.d/rdns.conf $(DESTDIR)$(SYSUSERSDIR)/rdns.conf
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	for f in $(DNS_DOCS); do install -D -m 0644 deploy/dns/$$f $(DESTDIR)$(DOCDIR)/dns/$$f || exit 1; done
	@if [ ! -e $(CONF) ]; then echo "install -D -m 0600 deploy/rdns.conf $(CONF)"; \
	  install -D -m 0600 deploy/rdns.conf $(CONF); \
	elif ! cmp -s deploy/rdns.conf $(CONF); then echo "install: $(CONF) kept; the sample is $(CONF).sample"; \
	  install -D -m 0600 deploy/rdns.conf $(CONF).sample; fi
	@if [ -z "$(DESTDIR)" ]; then \
	  if command -v systemd-sysusers >/dev/null; then echo "systemd-sysusers $(SYSUSERSDIR)/rdns.conf"; \
	    systemd-sysusers $(SYSUSERSDIR)/rdns.conf; fi; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; fi

# Removes what install put, but a config that differs from the sample (the operator's own)
# and the users (systemd-sysusers never deletes users: files they own may remain).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rdns-api $(DESTDIR)$(SBINDIR)/rdns-zonegen $(DESTDIR)$(SBINDIR)/rdns-verifier
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) $(DESTDIR)$(SYSUSERSDIR)/rdns.conf
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(addprefix $(DESTDIR)$(DOCDIR)/dns/,$(DNS_DOCS))
	-rmdir $(DESTDIR)$(DOCDIR)/dns $(DESTDIR)$(DOCDIR) 2>/dev/null
	@for f in $(CONF).sample $(CONF); do [ -e $$f ] || continue; \
	  if cmp -s deploy/rdns.conf $$f; then echo "rm -f $$f"; rm -f $$f; \
	  else echo "uninstall: $$f differs from the sample: kept"; fi; done
	-@rmdir $(DESTDIR)$(SYSCONFDIR)/rdns 2>/dev/null
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

clean:
	rm -rf build

.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
