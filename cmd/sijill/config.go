package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sijill/sijill/archive/s3"
	"github.com/sijill/sijill/render"
)

// Config is everything an operator can set, from flags or SIJILL_* variables.
type Config struct {
	Data          string
	Addr          string
	Location      *time.Location
	MaxUploadMB   int
	AdminPassword string
	Organisation  string
	SecureCookies bool
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges) whose
	// ProxyHeader names the client; without them the header is ignored, as
	// anyone could send it.
	TrustedProxies []string
	ProxyHeader    string
	S3             *s3.Config // nil: the local folder under Data
	LogLevel       slog.Level
	// OCRWorkers is how many attachments are read (OCR, PDF text) at once;
	// 0 means one per core less one.
	OCRWorkers int
	// Tessdata is the folder of Tesseract's models read with (make deps
	// puts the best Arabic model in bin/tessdata); "" for Tesseract's own.
	Tessdata string
	// VerifyEvery is how often the server checks the archive's fixity (0: never);
	// VerifyFirst is when the first check runs after start.
	VerifyEvery time.Duration
	VerifyFirst time.Duration
	// FeedPoll is how often the bucket's change feed is read; ReconcileEvery
	// how often the whole index is compared with the bucket.
	FeedPoll       time.Duration
	ReconcileEvery time.Duration
	// IndexMinFree is the free space (bytes) the index keeps under it.
	IndexMinFree int64
	// HeaderTimeout, BodyIdle and MaxConnsPerIP bound what one client can
	// hold of the server (see web.Config).
	HeaderTimeout time.Duration
	BodyIdle      time.Duration
	MaxConnsPerIP int
	// Signing: the organisation's key and certificate, as PEM files
	// (SignKey, SignCert) or one PKCS #12 file (SignP12, SignP12Password).
	// Empty: prints are not signed.
	SignKey, SignCert        string
	SignP12, SignP12Password string
	// ScanDir is the folder a network scanner writes to, whose files come
	// into the scan inbox ("" for none); ScanPoll how often it and the
	// bucket's drop prefix are looked at.
	ScanDir  string
	ScanPoll time.Duration
	// PublicURL is the address members open Sijill at, written into the
	// QR codes of registration stamps.
	PublicURL string
}

// parseConfig reads the environment first and lets flags override it.
func parseConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	cfg := &Config{AdminPassword: getenv("SIJILL_ADMIN_PASSWORD"), Organisation: env("SIJILL_ORG", "أمانة السر")}
	fs.StringVar(&cfg.Data, "data", env("SIJILL_DATA", "./data"), "directory of the local bucket and the search index (SIJILL_DATA)")
	fs.StringVar(&cfg.Addr, "addr", env("SIJILL_ADDR", "127.0.0.1:8080"), "listen address host:port (SIJILL_ADDR)")
	tz := fs.String("tz", env("SIJILL_TZ", "UTC"), "the organisation's time zone; the registration year is taken in it (SIJILL_TZ)")
	maxUp := fs.String("max-upload-mb", env("SIJILL_MAX_UPLOAD_MB", "100"), "largest upload in MB (SIJILL_MAX_UPLOAD_MB)")
	verifyEvery := fs.String("verify-every", env("SIJILL_VERIFY_EVERY", "24h"), "how often the server verifies every file and hash chain; 0 never (SIJILL_VERIFY_EVERY)")
	verifyFirst := fs.String("verify-first", env("SIJILL_VERIFY_FIRST", "1m"), "when the first verification runs after start (SIJILL_VERIFY_FIRST)")
	headerTimeout := fs.String("header-timeout", env("SIJILL_HEADER_TIMEOUT", "15s"), "time a client has to send a request's headers (SIJILL_HEADER_TIMEOUT)")
	bodyIdle := fs.String("body-idle", env("SIJILL_BODY_IDLE", "1m"), "time a request body may take to bring each 64 KB (SIJILL_BODY_IDLE)")
	perIP := fs.String("max-conns-per-ip", env("SIJILL_MAX_CONNS_PER_IP", "64"), "connections open at once from one address, trusted proxies excepted (SIJILL_MAX_CONNS_PER_IP)")
	feedPoll := fs.String("feed-poll", env("SIJILL_FEED_POLL", "250ms"), "how often the change feed of the bucket is read (SIJILL_FEED_POLL)")
	reconcile := fs.String("reconcile-every", env("SIJILL_RECONCILE_EVERY", "2m"), "how often the search index is compared with the whole bucket (SIJILL_RECONCILE_EVERY)")
	minFree := fs.String("index-min-free-mb", env("SIJILL_INDEX_MIN_FREE_MB", "64"), "free disk space the search index keeps under --data; below it, writes wait in the bucket (SIJILL_INDEX_MIN_FREE_MB)")
	ocrWorkers := fs.String("ocr-workers", env("SIJILL_OCR_WORKERS", "0"), "attachments read (OCR, PDF text) at once; 0: one per core less one (SIJILL_OCR_WORKERS)")
	tessdata := fs.String("tessdata", env("SIJILL_TESSDATA", ""), "folder of Tesseract's models, with the better Arabic model make deps installs; empty: Tesseract's own (SIJILL_TESSDATA)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("SIJILL_PUBLIC_URL", ""), "the address members open Sijill at, for the QR codes of registration stamps; empty: the address a request came to (SIJILL_PUBLIC_URL)")
	fs.StringVar(&cfg.ScanDir, "scan-dir", env("SIJILL_SCAN_DIR", ""), "folder a network scanner writes to; its files come into the scan inbox (default: scans under --data; off: none) (SIJILL_SCAN_DIR)")
	scanPoll := fs.String("scan-poll", env("SIJILL_SCAN_POLL", "5s"), "how often the scan folder and the bucket's inbox/drop/ are looked at (SIJILL_SCAN_POLL)")
	level := fs.String("log-level", env("SIJILL_LOG_LEVEL", "info"), "debug, info, warn or error (SIJILL_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return nil, fmt.Errorf("SIJILL_TZ %q: %w", *tz, err)
	}
	cfg.Location = loc
	if cfg.MaxUploadMB, err = strconv.Atoi(*maxUp); err != nil || cfg.MaxUploadMB < 1 {
		return nil, fmt.Errorf("SIJILL_MAX_UPLOAD_MB %q: want a positive number", *maxUp)
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"SIJILL_VERIFY_EVERY", *verifyEvery, &cfg.VerifyEvery}, {"SIJILL_VERIFY_FIRST", *verifyFirst, &cfg.VerifyFirst}} {
		if d.v == "0" || d.v == "off" {
			continue
		}
		if *d.dst, err = time.ParseDuration(d.v); err != nil || *d.dst < 0 {
			return nil, fmt.Errorf("%s %q: want a duration such as 24h or 90m, or 0", d.name, d.v)
		}
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"SIJILL_FEED_POLL", *feedPoll, &cfg.FeedPoll}, {"SIJILL_RECONCILE_EVERY", *reconcile, &cfg.ReconcileEvery},
		{"SIJILL_HEADER_TIMEOUT", *headerTimeout, &cfg.HeaderTimeout}, {"SIJILL_BODY_IDLE", *bodyIdle, &cfg.BodyIdle},
		{"SIJILL_SCAN_POLL", *scanPoll, &cfg.ScanPoll}} {
		if *d.dst, err = time.ParseDuration(d.v); err != nil || *d.dst <= 0 {
			return nil, fmt.Errorf("%s %q: want a duration such as 250ms or 5m", d.name, d.v)
		}
	}
	mb, err := strconv.Atoi(*minFree)
	if err != nil || mb < 1 {
		return nil, fmt.Errorf("SIJILL_INDEX_MIN_FREE_MB %q: want a number of megabytes, at least 1", *minFree)
	}
	cfg.IndexMinFree = int64(mb) << 20
	if cfg.MaxConnsPerIP, err = strconv.Atoi(*perIP); err != nil || cfg.MaxConnsPerIP < 1 {
		return nil, fmt.Errorf("SIJILL_MAX_CONNS_PER_IP %q: want a number, at least 1", *perIP)
	}
	cfg.Tessdata = *tessdata
	switch cfg.ScanDir {
	case "":
		cfg.ScanDir = filepath.Join(cfg.Data, "scans")
	case "off", "none":
		cfg.ScanDir = ""
	}
	if u := cfg.PublicURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			return nil, fmt.Errorf("SIJILL_PUBLIC_URL %q: want an address such as https://sijill.example.org", u)
		}
	}
	if cfg.OCRWorkers, err = strconv.Atoi(*ocrWorkers); err != nil || cfg.OCRWorkers < 0 || cfg.OCRWorkers > 256 {
		return nil, fmt.Errorf("SIJILL_OCR_WORKERS %q: want a number from 0 (one per core less one) to 256", *ocrWorkers)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("SIJILL_LOG_LEVEL: %w", err)
	}
	cfg.SecureCookies = isTrue(getenv("SIJILL_SECURE_COOKIES"))
	cfg.SignKey, cfg.SignCert = getenv("SIJILL_SIGN_KEY"), getenv("SIJILL_SIGN_CERT")
	cfg.SignP12, cfg.SignP12Password = getenv("SIJILL_SIGN_P12"), getenv("SIJILL_SIGN_P12_PASSWORD")
	if (cfg.SignKey == "") != (cfg.SignCert == "") {
		return nil, fmt.Errorf("SIJILL_SIGN_KEY and SIJILL_SIGN_CERT go together: the key and its certificate")
	}
	if cfg.SignP12 != "" && cfg.SignKey != "" {
		return nil, fmt.Errorf("SIJILL_SIGN_P12 or SIJILL_SIGN_KEY with SIJILL_SIGN_CERT, not both")
	}
	if cfg.TrustedProxies, err = parseProxies(getenv("SIJILL_TRUSTED_PROXIES")); err != nil {
		return nil, err
	}
	cfg.ProxyHeader = env("SIJILL_PROXY_HEADER", "X-Real-IP")
	if ep := getenv("SIJILL_S3_ENDPOINT"); ep != "" {
		cfg.S3 = &s3.Config{
			Endpoint: ep, Bucket: env("SIJILL_S3_BUCKET", "sijill"),
			AccessKey: getenv("SIJILL_S3_ACCESS_KEY"), SecretKey: getenv("SIJILL_S3_SECRET_KEY"),
			Region: getenv("SIJILL_S3_REGION"), TLS: isTrue(getenv("SIJILL_S3_TLS")),
			// Encryption at rest: SIJILL_S3_SSE=s3 (the service's keys) or c
			// (SIJILL_S3_SSE_KEY, 32 bytes base64, which the service never keeps).
			SSE: getenv("SIJILL_S3_SSE"), SSEKey: getenv("SIJILL_S3_SSE_KEY"),
		}
		if v := getenv("SIJILL_S3_TIMEOUT"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("SIJILL_S3_TIMEOUT %q: want a duration such as 10s", v)
			}
			cfg.S3.Timeout = d
		}
	}
	return cfg, nil
}

// parseProxies reads a comma-separated list of IP addresses and CIDR ranges.
func parseProxies(v string) ([]string, error) {
	var list []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, fmt.Errorf("SIJILL_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range such as 10.0.0.0/8", p)
			}
		}
		list = append(list, p)
	}
	return list, nil
}

func isTrue(v string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(v))
	return b
}

// signer loads the signing key the configuration names, or nil for none.
func (cfg *Config) signer() (*render.Signer, error) {
	switch {
	case cfg.SignP12 != "":
		return render.LoadSignerPKCS12(cfg.SignP12, cfg.SignP12Password)
	case cfg.SignKey != "":
		return render.LoadSignerPEM(cfg.SignKey, cfg.SignCert)
	}
	return nil, nil
}
