package web

import (
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The archive and the index explain a refused field or query in Arabic (the
// API sends those messages as they are). A page in English shows them through
// the catalogue instead: each known message has a key, and a message nobody
// listed here comes out in Arabic rather than not at all.

// knownMessage is one Arabic message of archive, index or this package, as
// its source formats it, and the catalogue key that says the same. %d and %q
// in format are the parts that vary; the catalogue's messages take them as %s
// in the same order.
type knownMessage struct {
	format string
	key    string
}

var knownMessages = []knownMessage{
	// archive: record fields (archive/record.go validate).
	{"الموضوع مطلوب", "msg.subject_required"},
	{"النص ليس UTF-8 صالحًا", "msg.text_utf8"},
	{"النص أطول من %d حرفًا", "msg.text_long"},
	{"التاريخ غير صالح؛ الصيغة المطلوبة YYYY-MM-DD", "msg.date"},
	{"القائمة أطول من %d عنصرًا", "msg.list_long"},
	{"المرجع %q ليس رقم قيد صالحًا", "msg.ref"},
	{"درجة السرية إما normal أو confidential", "msg.confidentiality"},
	// archive: annulment (archive/update.go).
	{"سبب الإلغاء مطلوب", "msg.reason_required"},
	{"السبب أطول من %d حرفًا", "msg.reason_long"},
	// archive: accounts (archive/users.go).
	{"كلمة المرور بين %d و%d حرفًا", "msg.password_length"},
	{"كلمة المرور سهلة التخمين (شائعة، أو كلمة واحدة، أو تكرار، أو تسلسل): اختر عبارة من بضع كلمات لا يخمّنها غيرك", "msg.password_weak"},
	{"اسم المستخدم من 2 إلى 32 حرفًا لاتينيًا صغيرًا أو رقمًا أو . _ -", "msg.username"},
	{"الدور أحد: admin, secretary, reader, auditor", "msg.role"},
	// web: the password change (account.go).
	{"كلمة المرور الحالية غير صحيحة", "msg.old_password"},
	{"كلمة المرور الجديدة هي القديمة نفسها", "msg.same_password"},
	// index: search query syntax (index/parse.go).
	{"نص البحث طويل جدًا: 500 حرف على الأكثر.", "msg.query_long"},
	{"علامة تنصيص غير مغلقة: ضع العبارة بين علامتي تنصيص، مثل \"المجلس الوطني\".", "msg.query_quote"},
	{"قوس غير مغلق: لكل قوس ( قوس ) يقابله.", "msg.query_open_paren"},
	{"قوس إغلاق ) بلا قوس فتح ( يقابله.", "msg.query_close_paren"},
	{"قوسان فارغان: ضع بينهما كلمة للبحث عنها.", "msg.query_empty_paren"},
	{"OR تقع بين كلمتين أو عبارتين، مثل: لجنة OR مكتب.", "msg.query_lone_or"},
	{"لا يمكن البحث بكلمات مستبعدة فقط (-كلمة): أضف كلمة واحدة على الأقل للبحث عنها.", "msg.query_only_negative"},
}

// messageMatcher recognises a known message, its varying parts included.
type messageMatcher struct {
	re  *regexp.Regexp
	key string
}

// messageMatchers are built once from knownMessages; they are read-only.
var messageMatchers = func() []messageMatcher {
	verb := regexp.MustCompile(`%[dq]`)
	out := make([]messageMatcher, 0, len(knownMessages))
	for _, m := range knownMessages {
		var b strings.Builder
		b.WriteString("^")
		last := 0
		for _, loc := range verb.FindAllStringIndex(m.format, -1) {
			b.WriteString(regexp.QuoteMeta(m.format[last:loc[0]]))
			if m.format[loc[0]+1] == 'd' {
				b.WriteString(`(-?[0-9]+)`)
			} else {
				b.WriteString(`(".*")`)
			}
			last = loc[1]
		}
		b.WriteString(regexp.QuoteMeta(m.format[last:]))
		b.WriteString("$")
		out = append(out, messageMatcher{re: regexp.MustCompile(b.String()), key: m.key})
	}
	return out
}()

// translateMessage returns msg, an Arabic message of the archive or index,
// in the catalogue's language: itself when no catalogue key knows it.
func translateMessage(cat *catalogue, msg string) string {
	if cat == nil || cat.lang == "ar" || msg == "" {
		return msg
	}
	for _, m := range messageMatchers {
		sub := m.re.FindStringSubmatch(msg)
		if sub == nil {
			continue
		}
		if _, ok := cat.msgs[m.key]; !ok {
			return msg
		}
		args := make([]any, 0, len(sub)-1)
		for _, s := range sub[1:] {
			args = append(args, s)
		}
		return cat.text(m.key, args...)
	}
	return msg
}

// Msg shows an Arabic message of the archive or index (a refused field, a
// malformed query) in the page's language.
func (v *view) Msg(msg string) string { return translateMessage(v.tr, msg) }

// msgKey is the catalogue message key in the request's language, for a page's
// own message shown beside a field.
func (u *ui) msgKey(c *fiber.Ctx, key string, args ...any) string {
	return u.catalogues[langOf(c)].text(key, args...)
}
