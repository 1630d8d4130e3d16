# libzmq-rs: build, install and test a drop-in libzmq.so.5.
#   make                 release build (target/release)
#   make install         install lib, headers, pkg-config file and the perf tools
#                        (PREFIX=/usr/local, DESTDIR=)
#   make uninstall       remove what install put there
#   make perf            build the perf tools (perf/*.c) into target/release/perf
#   make test            the whole test suite (what .ci/run runs)
#   make bench           ours against Debian's libzmq5, writes BENCHMARKS.md (scripts/bench.sh;
#                        ROUNDS=N, QUICK=1)
#   make header          regenerate include/zmq.h from the sources
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=
CARGO ?= cargo
SOVERSION = 5.2.5
# Rust's staticlib needs these system libraries when linking libzmq.a (rustc's native-static-libs).
LIBS_PRIVATE = -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

REL = target/release

# The perf tools: C programs against the public API (perf/perf.h has the shared parts).
PERF_TOOLS = local_thr remote_thr local_lat remote_lat inproc_thr inproc_lat proxy_thr \
             pub_thr sub_thr router_thr dealer_thr
PERF_BIN = $(addprefix $(REL)/perf/,$(PERF_TOOLS))
PERF_CFLAGS ?= -O2 -g -Wall -Wextra -Werror

.PHONY: all build perf install uninstall test bench header clean FORCE

all: build perf

build:
	$(CARGO) build --release --lib

perf: $(PERF_BIN)

# Linked against our libzmq.so (NEEDED libzmq.so.5, no rpath): the same binary runs on any
# libzmq.so.5 chosen with LD_LIBRARY_PATH. `build` is order-only, so the tools are not
# relinked every time the library is rebuilt.
$(REL)/perf/%: perf/%.c perf/perf.h include/zmq.h | build
	@mkdir -p $(REL)/perf
	$(CC) $(PERF_CFLAGS) -Iinclude -o $@ $< -L$(REL) -lzmq -lpthread

# Regenerated on every install: it bakes in PREFIX and LIBDIR, which may differ between runs.
$(REL)/libzmq.pc: pkgconfig/libzmq.pc.in Makefile FORCE
	@mkdir -p $(REL)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' $< > $@

install: build perf $(REL)/libzmq.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR)
	install -m 755 $(REL)/libzmq.so $(DESTDIR)$(LIBDIR)/libzmq.so.$(SOVERSION)
	ln -sf libzmq.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libzmq.so.5
	ln -sf libzmq.so.5 $(DESTDIR)$(LIBDIR)/libzmq.so
	install -m 644 $(REL)/libzmq.a $(DESTDIR)$(LIBDIR)/libzmq.a
	install -m 644 include/zmq.h include/zmq_utils.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(REL)/libzmq.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libzmq.pc
	install -m 755 $(PERF_BIN) $(DESTDIR)$(BINDIR)/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libzmq.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libzmq.so.5 \
	      $(DESTDIR)$(LIBDIR)/libzmq.so $(DESTDIR)$(LIBDIR)/libzmq.a \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/libzmq.pc \
	      $(DESTDIR)$(INCLUDEDIR)/zmq.h $(DESTDIR)$(INCLUDEDIR)/zmq_utils.h \
	      $(addprefix $(DESTDIR)$(BINDIR)/,$(PERF_TOOLS))

test:
	./scripts/test.sh

bench:
	./scripts/bench.sh

header:
	BLESS=1 $(CARGO) test --test header

clean:
	$(CARGO) clean

FORCE:
