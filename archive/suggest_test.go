package archive

import "testing"

func TestSuggestIncoming(t *testing.T) {
	cases := []struct {
		name, text string
		want       Suggestion
	}{
		{"labelled, Western digits",
			"حزب الأصالة والمعاصرة\nأمانة السر\nالمرجع: أ ع/163/2023\nالتاريخ: 26/03/2020\nإلى السيد رئيس المجلس الوطني المحترم\nالموضوع: تقرير عن أشغال المجلس الوطني\nتحية طيبة وبعد،\nنص الرسالة",
			Suggestion{From: "حزب الأصالة والمعاصرة", Reference: "أ ع/163/2023", ReferenceDate: "2020-03-26", Subject: "تقرير عن أشغال المجلس الوطني"}},
		{"Eastern digits, labels with tatweel and a named month",
			"المجلس الوطني\nالـرقم : ك ج/٣٦٧/٢٠٢٥\nحرر في ١٥ آذار ٢٠٢٥\nالموضوع : دعوة لحضور اجتماع\nالسلام عليكم",
			Suggestion{From: "المجلس الوطني", Reference: "ك ج/٣٦٧/٢٠٢٥", ReferenceDate: "2025-03-15", Subject: "دعوة لحضور اجتماع"}},
		{"a sender line, an unlabelled date, no subject label",
			"من: جمعية الأمل\nالرباط في 2026-11-03\nتحية طيبة وبعد\nنرجو منكم تزويدنا بنسخة من محضر الجمع العام\nوشكرا",
			Suggestion{From: "جمعية الأمل", ReferenceDate: "2026-11-03", Subject: "نرجو منكم تزويدنا بنسخة من محضر الجمع العام وشكرا"}},
		{"no date that exists, junk lines",
			"|||| ___ ////\nالتاريخ: 31/02/2026\nالموضوع: طلب",
			Suggestion{Subject: "طلب"}},
		{"empty", "", Suggestion{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := SuggestIncoming(tc.text); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
