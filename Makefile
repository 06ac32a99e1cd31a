# roroot. `make` bundles dist/roroot.js; `make test` runs everything.
SHELL := /bin/bash
.DEFAULT_GOAL := all
VERSION := $(shell node -p "require('./package.json').version")
ESBUILD := node_modules/.bin/esbuild
TSC := node_modules/.bin/tsc
SOURCES := $(shell find init -name '*.ts')
TESTS := $(shell find test -name '*.test.ts')
TEST_SUPPORT := $(shell find test -name '*.ts' ! -name '*.test.ts') $(wildcard board/*.ts)

# Debian packages the tests need on the host (mkfs, sfdisk, partx,
# losetup, unshare, findmnt, cp; the shim's gcc and strip; depmod, which a
# fresh machine lacks: kmod is Priority important, not required).
# test/deps.test.ts fails when a program the code or the tests run is in
# none of these lists and not Essential or required.
HOST_PACKAGES := e2fsprogs fdisk util-linux mount coreutils gcc libc6-dev binutils kmod openssh-client

.PHONY: all test unit-test typecheck host-deps image-deps demo demo-loop deb image update fleet bench powercut powercut-replay clean

all: dist/roroot.js

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Installs the Debian packages of $(1) that are not installed yet.
define install-missing
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

host-deps:
	$(call install-missing,$(HOST_PACKAGES))

# One file, node 18 (Debian bookworm's), every dependency inside.
dist/roroot.js: node_modules/.installed $(SOURCES) package.json
	$(ESBUILD) init/cli.ts --bundle --platform=node --target=node18 --outfile=$@ \
	  --banner:js='#!/usr/bin/env node' --define:RORORT_VERSION='"$(VERSION)"' --log-level=warning
	chmod +x $@

# The same, as the entry of a V8 startup snapshot the router's node builds
# (init/snapshot.ts; the .deb's postinst and the image builder build it).
dist/roroot-snapshot.js: node_modules/.installed $(SOURCES) package.json
	$(ESBUILD) init/snapshot.ts --bundle --platform=node --target=node18 --outfile=$@ \
	  --define:RORORT_VERSION='"$(VERSION)"' --log-level=warning

# The login EROFS shim (patches/login-erofs-shim.c), an LD_PRELOAD library.
SHIM := build/patches/login-erofs-shim.so
$(SHIM): patches/login-erofs-shim.c
	@mkdir -p $(dir $@)
	gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $< -ldl

DEB := build/deb/roroot_$(VERSION)_$(shell dpkg --print-architecture).deb
deb: $(DEB)
$(DEB): dist/roroot.js dist/roroot-snapshot.js $(SHIM) $(wildcard pkg/debian/*) pkg/build-deb.sh patches/roroot-init.sh patches/snapshot-check.sh patches/login-wrapper.sh $(wildcard board/*.conf)
	pkg/build-deb.sh $(VERSION) build/deb $(SHIM) >/dev/null
	@echo $@

# What building and booting the router image needs on the host.
IMAGE_PACKAGES := socat mmdebstrap extlinux syslinux-common grub-pc-bin grub-common qemu-system-x86 qemu-utils qemu-user-static dpkg-dev lintian nfs-ganesha nfs-ganesha-vfs

image-deps:
	$(call install-missing,$(IMAGE_PACKAGES))

BOARD ?= qemu-x86_64
IMAGE := build/image/$(BOARD).img
# The fleet's one shared image (board/qemu-fleet.conf).
FLEET_IMAGE := build/image/qemu-fleet.img
# sysvinit and a static /dev on the read-only root (board/qemu-static-dev.conf).
STATIC_DEV_IMAGE := build/image/qemu-static-dev.img
# The seed's router on its own hardware model (board/pc-router.conf).
PC_ROUTER_IMAGE := build/image/pc-router.img
# Two root slots, GRUB (board/qemu-ab.conf), and an update for it whose
# version is the next one (what the upgrade VM test installs).
AB_IMAGE := build/image/qemu-ab.img
AB_UPDATE := build/update/qemu-ab-$(VERSION)-next.rorootfw
image: $(IMAGE)
build/board/image.js: node_modules/.installed board/image.ts board/rootfs.ts board/kernel-modules.ts board/update-file.ts $(SOURCES)
	$(ESBUILD) board/image.ts --bundle --platform=node --target=node20 --outfile=$@ --log-level=warning
# The reference image without roroot: the baseline of make bench.
PLAIN_IMAGE := build/image/qemu-x86_64-plain.img
build/board/plain-image.js: node_modules/.installed board/plain-image.ts
	$(ESBUILD) board/plain-image.ts --bundle --platform=node --target=node20 --outfile=$@ --log-level=warning
$(PLAIN_IMAGE): $(IMAGE) build/board/plain-image.js
	node build/board/plain-image.js --from $(IMAGE) --out $@
# `make update [BOARD=...] [FIRMWARE_VERSION=...]`: the board's signed
# update file, build/update/<board>-<version>.rorootfw (SLOTS=2 boards).
UPDATE_BOARD := $(if $(filter command line,$(origin BOARD)),$(BOARD),qemu-ab)
FIRMWARE_VERSION ?= $(VERSION)
update: $(DEB) build/board/image.js | host-deps image-deps
	node build/board/image.js --board board/$(UPDATE_BOARD).conf --deb $(DEB) --update build/update --version $(FIRMWARE_VERSION)
$(AB_UPDATE): board/qemu-ab.conf build/board/image.js $(DEB) | host-deps image-deps
	node build/board/image.js --board $< --deb $(DEB) --update build/update --version $(VERSION)-next
build/image/%.img: board/%.conf board/static-dev-udev build/board/image.js $(DEB) | host-deps image-deps
	node build/board/image.js --board $< --deb $(DEB) --out $@

typecheck: node_modules/.installed
	$(TSC) --noEmit -p .

build/test/.built: node_modules/.installed $(TESTS) $(TEST_SUPPORT) $(SOURCES)
	rm -rf build/test
	$(ESBUILD) $(TESTS) test/run.ts --bundle --platform=node --target=node20 --packages=external \
	  --outbase=test --outdir=build/test --log-level=warning
	touch $@

# Pure tests only: no root, no devices.
unit-test: build/test/.built dist/roroot.js
	node build/test/run.js --unit

# The VM tests boot the reference image: it is built first (cached rootfs).
test: host-deps typecheck build/test/.built dist/roroot.js dist/roroot-snapshot.js $(SHIM) $(IMAGE) $(PLAIN_IMAGE) $(FLEET_IMAGE) $(STATIC_DEV_IMAGE) $(PC_ROUTER_IMAGE) $(AB_IMAGE) $(AB_UPDATE)
	node build/test/run.js

build/demo/loop-demo.js: node_modules/.installed test/demo/loop-demo.ts $(TEST_SUPPORT)
	$(ESBUILD) test/demo/loop-demo.ts --bundle --platform=node --target=node20 --packages=external \
	  --outfile=$@ --log-level=warning

# The reference router in QEMU on this terminal, with its NFS server.
build/board/demo.js: node_modules/.installed board/demo.ts board/qemu.ts board/nfs-server.ts $(SOURCES)
	$(ESBUILD) board/demo.ts --bundle --platform=node --target=node20 --outfile=$@ --log-level=warning
demo: host-deps image-deps $(IMAGE) build/board/demo.js
	node build/board/demo.js $(IMAGE) board/$(BOARD).conf

# The stateless fleet: N routers from the one qemu-fleet image at once.
N ?= 4
build/board/run-fleet.js: node_modules/.installed board/run-fleet.ts board/fleet.ts board/guest.ts board/qemu.ts board/nfs-server.ts $(SOURCES)
	$(ESBUILD) board/run-fleet.ts --bundle --platform=node --target=node20 --packages=external --outfile=$@ --log-level=warning
fleet: host-deps image-deps $(FLEET_IMAGE) build/board/run-fleet.js
	node build/board/run-fleet.js --image $(FLEET_IMAGE) --board board/qemu-fleet.conf -n $(N)

# Speed and memory: writes bench-results.json and BENCHMARKS.md.
BENCH_PACKAGES := time
build/bench/main.js: node_modules/.installed $(wildcard test/bench/*.ts) $(TEST_SUPPORT) $(SOURCES)
	$(ESBUILD) test/bench/main.ts --bundle --platform=node --target=node20 --packages=external --outfile=$@ --log-level=warning
bench: host-deps image-deps dist/roroot.js dist/roroot-snapshot.js $(IMAGE) $(PLAIN_IMAGE) build/bench/main.js
	$(call install-missing,$(BENCH_PACKAGES))
	node build/bench/main.js $(BENCH_ARGS)

# The boot stage alone on a loop device: no image, no QEMU, a few seconds.
demo-loop: host-deps dist/roroot.js build/demo/loop-demo.js
	node build/demo/loop-demo.js

clean:
	rm -rf dist build

# The power-cut harness (test/powercut/): a campaign on the reference image
# (as it ships, and with modules.dep stale) and on the same image without
# roroot, powercut-report.{json,md,svg}. Run it under
# flock /tmp/roroot-vm.lock: it boots QEMU, one guest at a time.
CUTS ?= 240
BOOTS ?= 3
RECUTS ?= 0
SCENARIO ?= boot,log-storm,rw-window,nfs
# SCENARIO=upgrade: the two-slot router (roroot-ab, board/qemu-ab.conf)
# through an A/B upgrade, its trial boot and commit, under the policies the
# issue asks for; its own report (powercut-upgrade-report.*). RECORDED=1
# cuts the last campaign's recording of it again instead of making one.
comma := ,
UPGRADE_CAMPAIGN := $(filter upgrade,$(subst $(comma), ,$(SCENARIO)))
POLICY ?= $(if $(UPGRADE_CAMPAIGN),prefix$(comma)torn$(comma)flush-ignored,prefix$(comma)subset$(comma)torn$(comma)flush-ignored$(comma)erase-block)
SYSTEM ?= $(if $(UPGRADE_CAMPAIGN),roroot-ab,roroot$(comma)roroot-stale$(comma)baseline)
REPORT ?= $(if $(UPGRADE_CAMPAIGN),powercut-upgrade-report,powercut-report)
SEED ?= 1
# CONTROL_CUTS=N adds the control: N erase-block cuts of the reference router
# on the layout of before ERASE_BLOCK (partitions on 1 MiB boundaries, the
# scratch in the root's last erase block).
CONTROL_CUTS ?= 0
# The storage model (README): flush-ignored's horizon, the erase block.
HORIZON_MIB ?= 32
HORIZON_S ?= 5
ERASE_BLOCK_MIB ?= 4
MISALIGNED_IMAGE := build/image/qemu-x86_64-misaligned.img
build/powercut/qemu-x86_64-misaligned.conf: board/qemu-x86_64.conf
	@mkdir -p $(dir $@)
	sed 's/^ERASE_BLOCK=.*/ERASE_BLOCK=1MiB/' $< > $@
$(MISALIGNED_IMAGE): build/powercut/qemu-x86_64-misaligned.conf board/static-dev-udev build/board/image.js $(DEB) | host-deps image-deps
	node build/board/image.js --board $< --deb $(DEB) --out $@
POWERCUT_IMAGES := $(if $(filter-out roroot-ab,$(subst $(comma), ,$(SYSTEM))),$(IMAGE) $(PLAIN_IMAGE)) $(if $(filter-out 0,$(CONTROL_CUTS))$(findstring misaligned,$(SYSTEM)),$(MISALIGNED_IMAGE)) $(if $(findstring roroot-ab,$(SYSTEM)),$(AB_IMAGE) $(AB_UPDATE))
build/powercut/main.js: node_modules/.installed $(wildcard test/powercut/*.ts) $(TEST_SUPPORT)
	$(ESBUILD) test/powercut/main.ts --bundle --platform=node --target=node20 --packages=external --outfile=$@ --log-level=warning
powercut: host-deps image-deps $(POWERCUT_IMAGES) build/powercut/main.js
	node build/powercut/main.js --cuts $(CUTS) --boots $(BOOTS) --recuts $(RECUTS) --scenario $(SCENARIO) --policy $(POLICY) --system $(SYSTEM) --seed $(SEED) --control-cuts $(CONTROL_CUTS) \
	  --horizon-mib $(HORIZON_MIB) --horizon-s $(HORIZON_S) --erase-block-mib $(ERASE_BLOCK_MIB) \
	  --report $(REPORT) --ab-image $(AB_IMAGE) --ab-update $(AB_UPDATE) $(if $(RECORDED),--reuse-recording)
# One crash state of the last campaign again (K and SEED from the report).
powercut-replay: host-deps image-deps build/powercut/main.js
	node build/powercut/main.js --replay --system $(SYSTEM) --scenario $(SCENARIO) --policy $(POLICY) --k $(K) --seed $(SEED) $(if $(IMAGE_OUT),--image-out $(IMAGE_OUT)) $(if $(BOOT),--boot) $(if $(RECUT),--recut)
