package main

import (
	"strings"
	"testing"
)

// TestConfigErrors: a mistyped setting stops the server with a message that
// names the variable, rather than starting with a default nobody chose.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"SIJILL_TZ", "Africa/Casablanka"},
		{"SIJILL_MAX_UPLOAD_MB", "lots"},
		{"SIJILL_MAX_UPLOAD_MB", "0"},
		{"SIJILL_VERIFY_EVERY", "daily"},
		{"SIJILL_OCR_WORKERS", "-1"},
		{"SIJILL_LOG_LEVEL", "loud"},
		{"SIJILL_TRUSTED_PROXIES", "10.0.0.1, proxy.local"},
		{"SIJILL_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"SIJILL_PUBLIC_URL", "sijill.hizb.ma"},
		{"SIJILL_PUBLIC_URL", "ftp://sijill.hizb.ma"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			getenv := func(k string) string {
				if k == tc.name {
					return tc.value
				}
				return ""
			}
			_, err := parseConfig(newFlagSet(), nil, getenv)
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("parseConfig = %v, want an error naming %s", err, tc.name)
			}
		})
	}
	cfg, err := parseConfig(newFlagSet(), nil, func(k string) string {
		return map[string]string{"SIJILL_TRUSTED_PROXIES": " 10.0.0.1 ,192.168.0.0/16,, ::1"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.TrustedProxies, " "); got != "10.0.0.1 192.168.0.0/16 ::1" || cfg.ProxyHeader != "X-Real-IP" {
		t.Errorf("trusted proxies %q, header %q", got, cfg.ProxyHeader)
	}
}
