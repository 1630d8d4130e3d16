# libzmq-rs: build, install and test a drop-in libzmq.so.5.
#   make                 release build (target/release)
#   make install         install lib, headers, pkg-config file (PREFIX=/usr/local, DESTDIR=)
#   make uninstall       remove what install put there
#   make test            the whole test suite (what .ci/run runs)
#   make header          regenerate include/zmq.h from the sources
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=
CARGO ?= cargo
SOVERSION = 5.2.5
# Rust's staticlib needs these system libraries when linking libzmq.a (rustc's native-static-libs).
LIBS_PRIVATE = -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

REL = target/release

.PHONY: all build install uninstall test header clean FORCE

all: build

build:
	$(CARGO) build --release --lib

# Regenerated on every install: it bakes in PREFIX and LIBDIR, which may differ between runs.
$(REL)/libzmq.pc: pkgconfig/libzmq.pc.in Makefile FORCE
	@mkdir -p $(REL)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' $< > $@

install: build $(REL)/libzmq.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(REL)/libzmq.so $(DESTDIR)$(LIBDIR)/libzmq.so.$(SOVERSION)
	ln -sf libzmq.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libzmq.so.5
	ln -sf libzmq.so.5 $(DESTDIR)$(LIBDIR)/libzmq.so
	install -m 644 $(REL)/libzmq.a $(DESTDIR)$(LIBDIR)/libzmq.a
	install -m 644 include/zmq.h include/zmq_utils.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(REL)/libzmq.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libzmq.pc
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libzmq.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libzmq.so.5 \
	      $(DESTDIR)$(LIBDIR)/libzmq.so $(DESTDIR)$(LIBDIR)/libzmq.a \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/libzmq.pc \
	      $(DESTDIR)$(INCLUDEDIR)/zmq.h $(DESTDIR)$(INCLUDEDIR)/zmq_utils.h

test:
	./scripts/test.sh

header:
	BLESS=1 $(CARGO) test --test header

clean:
	$(CARGO) clean

FORCE:
