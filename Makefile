# ipcat build. Needs only node/npm and make on a fresh machine: Deno comes from npm when it
# is not on PATH. See README.md.
DENO_VERSION := 2.9.6
LOCAL_DENO := .deno/node_modules/@deno/linux-x64-glibc/deno
DENO := $(or $(shell command -v deno 2>/dev/null),$(LOCAL_DENO))
# Permissions ipcat needs: it connects, listens, reads/writes socket files, runs commands.
# --unstable-net: Deno's datagram sockets (udp:, unixgram:) are behind it.
RUN_FLAGS := --allow-all --no-prompt --unstable-net
# V8_FLAGS, unless DENO_V8_FLAGS says otherwise (a --v8-flags on the command line would win
# over it): --max-semi-space-size=4, since V8's young generation grows to 3 x 16 MB under a
# thousand busy clients; capped at 4 MB semi-spaces a 1,000-client echo server peaks at ~94 MB
# instead of ~133, at the same speed (make bench, 2026-11-27; 1 MB cost 15-20% of the throughput).
V8_FLAGS := --max-semi-space-size=4
LAUNCH_FLAGS := $(RUN_FLAGS) --v8-flags="$${DENO_V8_FLAGS:-$(V8_FLAGS)}"
MODULES := $(shell find lib commands -name '*.ts' ! -name '*_test.ts')
# sed: a bundle's literal import("./x.js") becomes import(String("./x.js")), which Deno cannot
# read ahead (see bin/ipcat below).
HIDE_IMPORTS := s/import("\(\.\/[^"]*\.js\)")/import(String("\1"))/g
SOURCES := cli.ts deno.json deno.lock $(MODULES) $(wildcard tools/*.ts)
# What `deno doc --lint` and the doc tests cover: the code and the test helpers. Listed as
# files: given a directory, `deno test --doc` would run its unit tests a second time.
DOCUMENTED := cli.ts $(MODULES) tests/_helpers.ts tests/_proc.ts tools/eager_compile.ts

.PHONY: all compile man install uninstall test demo bench clean fmt fuzz stress

all: bin/ipcat

$(LOCAL_DENO):
	npm install --prefix .deno --no-save --no-audit --no-fund --loglevel=error deno@$(DENO_VERSION)
	@test -x $@ || { echo "make: npm did not install the deno binary at $@" >&2; exit 1; }

.deno/deps: deno.json deno.lock | $(DENO)
	$(DENO) install --frozen --entrypoint cli.ts tests/deps.ts tools/eager_compile.ts
	@mkdir -p .deno && touch $@

# The single binary where `deno compile` can get its runtime (online, or DENORT_BIN);
# otherwise a launcher that runs the same code with the same flags. The launcher runs a
# self-contained bundle of cli.ts (`deno bundle`, built in, works offline) with --no-config:
# measured here, loading ~45 modules one by one plus reading deno.json and the lock costs
# ~10 ms more per start than that, and `send` runs once per message in shell loops. Split at
# cli.ts's dynamic imports (bin/ipcat.d/: cli.js and its chunks), so `--version` loads one
# small file and `send` only the code it runs. The sed hides the chunks' names from Deno:
# it reads and analyses every module a literal import() names before the first line runs
# (~0.8 ms for all chunks), and a chunk is only wanted once its import() is reached. The
# one-shot `send ADDR MSG` path (commands/_oneshot_main.ts) gets a bundle of its own in
# bin/ipcat.d/oneshot/, which the launcher runs directly for that form (cli.js imports it
# otherwise): one file read instead of eleven, ~2 ms less per start; what it imports
# dynamically (MessagePack, Node's TLS) is split off, ~0.6 ms less to load. tools/eager_compile.ts
# then rewrites the functions that training runs of `send` compile so that V8 compiles them
# eagerly, into Deno's code cache (~1.5 ms less per one-shot start). The entry's bare imports of shared chunks
# (esbuild's helper) are dropped: the entry binds nothing from them, and the chunks that use
# them import them by name.
# docs/design-notes.md "Startup" has the figures.
bin/ipcat: $(SOURCES) Makefile .deno/deps
	@mkdir -p bin
	@rm -rf bin/ipcat.d
	@if $(DENO) compile $(RUN_FLAGS) --v8-flags=$(V8_FLAGS) --frozen --quiet -o $@ cli.ts 2>/dev/null; then \
	  echo "built bin/ipcat (deno compile)"; \
	else \
	  main="$(abspath cli.ts)"; oneshot="$$main"; \
	  config="--frozen --config $(abspath deno.json)"; \
	  if $(DENO) bundle --quiet --frozen --minify --code-splitting --outdir bin/ipcat.d cli.ts && \
	    sed -i '$(HIDE_IMPORTS)' bin/ipcat.d/*.js && \
	    sed -i '1s/^\(import"\.\/chunk-[A-Z0-9]*\.js";\)*//' bin/ipcat.d/cli.js; then \
	    main="$(abspath bin/ipcat.d/cli.js)"; config="--no-config"; \
	    if $(DENO) bundle --quiet --frozen --minify --code-splitting --outdir bin/ipcat.d/oneshot commands/_oneshot_main.ts && \
	      sed -i '$(HIDE_IMPORTS)' bin/ipcat.d/oneshot/*.js && \
	      sed -i 's/import(String("\.\/_oneshot_main-[A-Za-z0-9]*\.js"))/import(String(".\/oneshot\/_oneshot_main.js"))/' bin/ipcat.d/cli.js && \
	      grep -q 'oneshot/_oneshot_main\.js' bin/ipcat.d/cli.js; then \
	      rm -f bin/ipcat.d/_oneshot_main-*.js; oneshot="$(abspath bin/ipcat.d/oneshot/_oneshot_main.js)"; \
	    else \
	      rm -rf bin/ipcat.d/oneshot; \
	    fi; \
	    $(DENO) run --allow-all --quiet --frozen tools/eager_compile.ts bin/ipcat.d || \
	      echo "make: the bundle is left as bundled (its functions compile lazily, ~2 ms slower per send)" >&2; \
	  fi; \
	  printf '#!/bin/sh\n# Launcher written by make: deno compile could not fetch its runtime here.\n# `send ADDR [MSG...]` with no argument starting with "-" runs the one-shot bundle directly.\nmain="%s"\nif [ "$$1" = send ] && [ $$# -gt 1 ]; then\n  main="%s"\n  for arg; do case $$arg in -*) main="%s"; break ;; esac; done\nfi\nexec "%s" run %s --quiet --cached-only %s "$$main" "$$@"\n' \
	    "$$main" "$$oneshot" "$$main" "$(abspath $(DENO))" '$(LAUNCH_FLAGS)' "$$config" > $@; \
	  chmod +x $@; \
	  echo "built bin/ipcat as a launcher for 'deno run' on $$main (deno compile cannot fetch denort offline; set DENORT_BIN or run make compile online)"; \
	fi

# Insists on the one-file binary; where deno cannot get denort (offline) it says so and keeps
# the launcher, which `make install` makes self-contained.
compile: $(SOURCES) .deno/deps
	@mkdir -p bin
	@if $(DENO) compile $(RUN_FLAGS) --v8-flags=$(V8_FLAGS) --frozen --quiet -o bin/ipcat.compiled cli.ts 2>bin/compile.err; then \
	  mv bin/ipcat.compiled bin/ipcat; rm -rf bin/ipcat.d; echo "built bin/ipcat (deno compile)"; \
	else \
	  rm -f bin/ipcat.compiled; \
	  echo "make compile: deno compile cannot get denort here (offline? set DENORT_BIN=/path/to/denort; deno said: bin/compile.err); keeping the launcher bin/ipcat" >&2; \
	  $(MAKE) --no-print-directory bin/ipcat >&2; exit 1; \
	fi

# The man page, generated from the same definitions as --help.
man: bin/ipcat.1
bin/ipcat.1: bin/ipcat
	bin/ipcat help --man > $@

# make install [PREFIX=/usr/local] [DESTDIR=...]: the program, its man page and completions.
# A one-file binary (make compile) is copied as is. A launcher build installs a
# self-contained layout: the bundle (cli.js and its chunks) and a copy of the Deno binary in $(PREFIX)/lib/ipcat,
# and a launcher that finds them beside itself (../lib/ipcat), so the checkout can go.
PREFIX ?= /usr/local
BINDIR := $(DESTDIR)$(PREFIX)/bin
LIBDIR := $(DESTDIR)$(PREFIX)/lib/ipcat
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
install: bin/ipcat bin/ipcat.1
	@mkdir -p $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	@if [ -d bin/ipcat.d ]; then \
	  rm -rf $(LIBDIR); mkdir -p $(LIBDIR); \
	  install -m 644 bin/ipcat.d/*.js $(LIBDIR)/; \
	  if [ -d bin/ipcat.d/oneshot ]; then mkdir -p $(LIBDIR)/oneshot; install -m 644 bin/ipcat.d/oneshot/*.js $(LIBDIR)/oneshot/; fi; \
	  install -m 755 "$$(command -v $(DENO))" $(LIBDIR)/deno; \
	  printf '%s\n' '#!/bin/sh' \
	    '# ipcat launcher (make install): the bundle and the Deno runtime live in ../lib/ipcat;' \
	    '# found from $$0 without forking (send runs once per message), else where make put them.' \
	    'lib=$${0%/*}/../lib/ipcat' \
	    '[ -f "$$lib/cli.js" ] || lib=$(PREFIX)/lib/ipcat' \
	    'main="$$lib/cli.js"' \
	    '# `send ADDR [MSG...]` with no argument starting with "-" runs the one-shot bundle directly.' \
	    'if [ "$$1" = send ] && [ $$# -gt 1 ] && [ -f "$$lib/oneshot/_oneshot_main.js" ]; then' \
	    '  main="$$lib/oneshot/_oneshot_main.js"' \
	    '  for arg; do case $$arg in -*) main="$$lib/cli.js"; break ;; esac; done' \
	    'fi' \
	    'exec "$$lib/deno" run $(LAUNCH_FLAGS) --quiet --cached-only --no-config "$$main" "$$@"' \
	    > $(BINDIR)/ipcat; \
	  chmod 755 $(BINDIR)/ipcat; \
	else \
	  install -m 755 bin/ipcat $(BINDIR)/ipcat; \
	fi
	install -m 644 bin/ipcat.1 $(MANDIR)/ipcat.1
	bin/ipcat completions bash > $(BASHDIR)/ipcat
	bin/ipcat completions zsh > $(ZSHDIR)/_ipcat
	bin/ipcat completions fish > $(FISHDIR)/ipcat.fish
	@echo "installed ipcat in $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(BINDIR)/ipcat $(MANDIR)/ipcat.1 $(BASHDIR)/ipcat $(ZSHDIR)/_ipcat $(FISHDIR)/ipcat.fish
	rm -rf $(LIBDIR)

test: bin/ipcat
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check cli.ts lib commands tests tools
	$(DENO) doc --lint $(DOCUMENTED)
	NO_COLOR=1 $(DENO) test --doc --unstable-net --allow-all --frozen --trace-leaks $(filter-out cli.ts commands/_oneshot_main.ts,$(DOCUMENTED))
	NO_COLOR=1 $(DENO) test --unstable-net --allow-all --frozen --trace-leaks lib tests

# Long forms of the fuzz and fault suites (make test runs their short forms).
SECONDS ?= 60
fuzz: bin/ipcat
	IPCAT_STRESS=1 $(DENO) run --allow-all --frozen tests/fuzz/differential.ts --seconds $(SECONDS)

stress: bin/ipcat
	@mkdir -p .bench
	@rm -f .bench/reliability.tsv
	IPCAT_STRESS=1 IPCAT_FIGURES=$(abspath .bench/reliability.tsv) NO_COLOR=1 \
	  $(DENO) test --allow-all --frozen --trace-leaks tests/fault_*_test.ts
	@echo "figures: .bench/reliability.tsv"; cat .bench/reliability.tsv

demo: bin/ipcat
	@bash tests/demo.sh

bench: bin/ipcat
	@bash bench/run.sh

fmt:
	$(DENO) fmt

clean:
	rm -rf bin .deno .bench
