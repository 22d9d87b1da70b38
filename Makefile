# Sijill — make run starts it on the local folder; make test installs what the
# tests need and runs every test.

GO        ?= go
BIN       := $(CURDIR)/bin
MINIO     := $(BIN)/minio
# The module proxy serves this one MinIO server version; pin it.
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
# The second S3 implementation the Bucket suite runs against (POSIX back end).
VERSITYGW := $(BIN)/versitygw
VERSITYGW_VERSION := v1.8.0
DEBS      := tesseract-ocr tesseract-ocr-ara tesseract-ocr-eng poppler-utils chromium unicode-data libfribidi-bin fonts-hosny-amiri postgresql zbar-tools openssl
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DATA      ?= ./data

# Tesseract's best Arabic model (tessdata_best, as integers), fetched from npm by
# name and version, with the distribution's English model and configs beside it:
# the folder the server reads scans with. Without it Sijill falls back to
# Debian's smaller model and says so on /healthz.
TESSDATA  := $(BIN)/tessdata
ARA_MODEL := @tesseract.js-data/ara@1.0.0
export SIJILL_TESSDATA := $(TESSDATA)

export SIJILL_MINIO_BIN := $(MINIO)
export SIJILL_VERSITYGW_BIN := $(VERSITYGW)

.PHONY: run build ocr-tools tessdata digit-templates test deps debs npmdeps vet bench bench-search bench-print bench-ocr bench-inbox bench-follow bench-import bench-backup fuzz load

build:
	$(GO) build -o $(BIN)/sijill ./cmd/sijill

## run: build and serve on the local folder $(DATA); prints the URL and the admin login.
run: build ocr-tools tessdata
	@mkdir -p $(DATA)
	@if [ -z "$$SIJILL_ADMIN_PASSWORD" ] && [ ! -s $(DATA)/admin-password.txt ]; then \
		head -c 12 /dev/urandom | base64 | tr -d '/+=' > $(DATA)/admin-password.txt; fi
	@pw="$${SIJILL_ADMIN_PASSWORD:-$$(cat $(DATA)/admin-password.txt)}"; \
	echo "Sijill: open http://$${SIJILL_ADDR:-127.0.0.1:8080} and log in as admin with the password: $$pw"; \
	echo "(the password is used only when the admin account is first created; it is kept in $(DATA)/admin-password.txt)"; \
	SIJILL_ADMIN_PASSWORD="$$pw" $(BIN)/sijill serve --data $(DATA)

# The tools that read scans and PDFs (Tesseract with its Arabic model, poppler).
# Without them the server runs, but scans stay unread and unfindable by their
# words: install them when missing (apt as root, or with sudo), and when that is
# not possible say exactly what to run.
OCR_DEBS := tesseract-ocr tesseract-ocr-ara tesseract-ocr-eng poppler-utils libtiff-tools
ocr-tools:
	@missing=""; for p in $(OCR_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing the OCR tools:$$missing"; \
		{ $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; } || \
		echo "WARNING: scans will not be read until you run: sudo apt-get install$$missing (the server notices them within a minute)"; \
	fi

## deps: what the tests need — a real MinIO server, versitygw, Debian's tools and npm's.
deps: $(MINIO) $(VERSITYGW) debs npmdeps tessdata

tessdata: ocr-tools
	@test -s $(TESSDATA)/ara.traineddata || { \
		command -v npm >/dev/null 2>&1 || { echo "installing npm from Debian, to fetch the Arabic OCR model"; \
			$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends nodejs npm; }; \
		echo "fetching Tesseract's best Arabic model ($(ARA_MODEL), Apache-2.0) into $(TESSDATA)"; \
		tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent $(ARA_MODEL) >/dev/null) && \
		tar -xzf $$tmp/*.tgz -C $$tmp package/4.0.0_best_int/ara.traineddata.gz && \
		mkdir -p $(TESSDATA) && gunzip -c $$tmp/package/4.0.0_best_int/ara.traineddata.gz > $(TESSDATA)/ara.traineddata.part && \
		mv $(TESSDATA)/ara.traineddata.part $(TESSDATA)/ara.traineddata; rm -rf $$tmp; \
		test -s $(TESSDATA)/ara.traineddata || echo "WARNING: the Arabic model could not be fetched; scans are read with Debian's"; }
	@sys=$$(tesseract --list-langs 2>&1 | sed -n 's/.*"\(.*\)".*/\1/p' | head -1); \
	for f in eng.traineddata osd.traineddata configs tessconfigs; do \
		test -e $(TESSDATA)/$$f || { test -e "$$sys/$$f" && ln -s "$$sys/$$f" $(TESSDATA)/$$f; } || true; done

# npm packages the tests use, installed under bin/npm: bagit-fs, a second BagIt
# implementation that checks the bags Sijill exports. Node and npm come from
# Debian when the machine has none (a machine with its own Node keeps it).
NPM_DIR := $(BIN)/npm
export SIJILL_NPM_DIR := $(NPM_DIR)
npmdeps: debs
	@command -v npm >/dev/null 2>&1 || { echo "installing Node.js and npm from Debian"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends nodejs npm; }
	@test -d $(NPM_DIR)/node_modules/bagit-fs || { mkdir -p $(NPM_DIR) && \
		npm install --silent --no-audit --no-fund --prefix $(NPM_DIR) bagit-fs@1.1.1; }

$(MINIO):
	@echo "building the MinIO server into $(MINIO) (about 5 minutes the first time)"
	GOBIN=$(BIN) $(GO) install github.com/minio/minio@$(MINIO_VERSION)

$(VERSITYGW):
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

vet:
	@$(GO) mod tidy -diff >/dev/null || { $(GO) mod tidy -diff; echo "go.mod is not tidy: run go mod tidy"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

## test: every test, with the race detector, then every fuzzer for its budget, against real MinIO, Tesseract, Chromium and PDF tools.
test: deps vet
	$(GO) test -race -count=1 -timeout 60m ./...
	$(MAKE) --no-print-directory fuzz

## bench: records/s and attachment MB/s on MinIO and the local folder, against bare minio-go.
bench: deps
	$(GO) run ./archive/bench
	$(GO) test -run '^$$' -bench Upload500MB -benchtime 1x ./cmd/sijill/
	$(GO) test -run '^$$' -bench . ./archive/s3/

bench-search: deps
	$(GO) run ./index/bench -n 100000

## bench-ocr: the OCR set's CER, recall and seconds against plain tesseract; pages/min and search latency while OCR runs.
bench-ocr: deps
	$(GO) run ./bench/ocr -letters
	$(GO) run ./bench/ocr

# The digit reader's templates (archive/extract/digits.gob.gz): Eastern and
# Western digits, slashes and letters drawn from Debian's Arabic text fonts by
# gendigits. Kept in the repository, so neither the tests nor the server need
# the fonts; made again by hand when the fonts or the measure change.
FONT_DEBS := fonts-hosny-amiri fonts-noto-core fonts-kacst fonts-kacst-one fonts-sil-scheherazade fonts-sil-lateef fonts-dejavu-core fonts-arabeyes
digit-templates:
	@missing=""; for p in $(FONT_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	test -z "$$missing" || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; }
	$(GO) generate ./archive/extract

## bench-inbox: thirty A4 scans (300 dpi JPEG) dropped on the scan inbox until every text is read, at 1 and N workers, against plain tesseract.
bench-inbox: deps
	$(GO) run ./bench/inbox

## bench-import: sijill import of 10,000 rows with scans on MinIO and on the local folder, against the API.
bench-import: $(MINIO)
	$(GO) run ./bench/importer

## bench-backup: sijill backup and restore of 10,000 records with scans on MinIO, against a plain minio-go mirror.
bench-backup: $(MINIO)
	$(GO) run ./bench/backup

## bench-follow: follow lag across three servers on one MinIO bucket under load, and a new server's rebuild rate and memory.
bench-follow: $(MINIO)
	$(GO) run ./bench/follow

## fuzz: every fuzzer. Budgets are counts of executions (what each did in 10 s on a loaded 2-core machine),
## not durations: with a duration, Go 1.26's fuzz coordinator can report "context deadline exceeded"
## at the deadline when a starved worker has not stopped yet (go.dev/issue/75804, fixed in Go 1.27).
## FUZZTIME=30s (or 100000x) overrides every budget.
FUZZTIME ?=
fuzzbudget = $(if $(FUZZTIME),$(FUZZTIME),$(1))
fuzz:
	$(GO) test ./index -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(call fuzzbudget,1000x)
	$(GO) test ./index -run '^$$' -fuzz '^FuzzAnalyze$$' -fuzztime $(call fuzzbudget,20000x)
	$(GO) test ./index -run '^$$' -fuzz '^FuzzSearchConfidential$$' -fuzztime $(call fuzzbudget,10000x)
	$(GO) test ./render -run '^$$' -fuzz '^FuzzShaper$$' -fuzztime $(call fuzzbudget,40000x)
	$(GO) test ./web -run '^$$' -fuzz '^FuzzUpload$$' -fuzztime $(call fuzzbudget,80x)
	$(GO) test ./web -run '^$$' -fuzz '^FuzzCreateJSON$$' -fuzztime $(call fuzzbudget,3000x)
	$(GO) test ./web -run '^$$' -fuzz '^FuzzSearchEndpoint$$' -fuzztime $(call fuzzbudget,3000x)
	$(GO) test ./web -run '^$$' -fuzz '^FuzzBodies$$' -fuzztime $(call fuzzbudget,12x)

bench-print: deps
	$(GO) run ./render/bench

## load: 20 clients on real sijill servers over MinIO for LOAD_DURATION (60s): ops/s, p50/p99 per
## operation, errors, then the archive check (every server's index against the bucket); exit 1 on any
## failed operation or problem found. LOAD_FLAGS passes more: -processes 3, -outage pause|kill.
LOAD_DURATION ?= 60s
LOAD_FLAGS ?=
load: $(MINIO)
	$(GO) run ./cmd/sijill-load -duration $(LOAD_DURATION) $(LOAD_FLAGS)
