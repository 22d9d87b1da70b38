// Package sample makes register entries like a secretariat writes them, for
// the render tests and the print benchmark to lay out the same book.
package sample

import (
	"fmt"
	"iter"
	"time"

	"github.com/sijill/sijill/archive"
)

// Records yields n records of the outgoing register of 2026 like the
// secretariat writes them: mixed Arabic, digits, dates, Latin, brackets, «».
func Records(n int) iter.Seq2[*archive.Record, error] {
	subjects := []string{
		"دعوة إلى اجتماع المكتب السياسي يوم 2026/03/14 لمناقشة التقرير المالي (الدورة الثانية)",
		"الرد على مراسلة وزارة الداخلية رقم 45/2026 بخصوص تجديد مكتب الفرع",
		"إحالة محضر المجلس الوطني «الدورة العادية» إلى اللجنة التنفيذية",
		"طلب عرض أسعار لطباعة البطاقات PDF و ODT من شركة Imprimerie Atlas",
		"تهنئة الأعضاء بمناسبة الذكرى السنوية لتأسيس الحزب",
		"لا مانع من عقد الندوة الجهوية بمدينة بوزنيقة",
	}
	parties := []string{"وزارة الداخلية", "الكتابة الجهوية بفاس", "لجنة التحكيم والأخلاقيات", "Imprimerie Atlas SARL", "المجلس الوطني"}
	return func(yield func(*archive.Record, error) bool) {
		prev := ""
		base := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
		for i := 1; i <= n; i++ {
			created := base.Add(time.Duration(i) * 37 * time.Minute)
			r := &archive.Record{
				ID: archive.RecordID(archive.Outgoing, 2026, i), Register: archive.Outgoing, Year: 2026, Number: i,
				Date:    created.Format(time.DateOnly),
				Subject: subjects[i%len(subjects)],
				To:      parties[i%len(parties)],
				Status:  archive.StatusActive, Confidentiality: archive.Normal,
				CreatedAt: created, CreatedBy: "secretary", Version: 1,
			}
			if i%3 == 0 {
				r.Attachments = []archive.Attachment{{SHA256: fmt.Sprintf("%064x", i), Name: "letter-scan.pdf", Size: 12345, AddedAt: created}}
			}
			if i%17 == 0 {
				r.Status = archive.StatusAnnulled
				r.AnnulReason = "خطأ في المرسل إليه، أعيد قيده تحت رقم " + fmt.Sprint(i+1)
			}
			r.Chain.Prev = prev
			r.Chain.Hash = r.Entry().Hash()
			prev = r.Chain.Hash
			if !yield(r, nil) {
				return
			}
		}
	}
}
