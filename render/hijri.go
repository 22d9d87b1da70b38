package render

import "time"

// hijri converts a Gregorian date to the tabular (arithmetic) Islamic calendar,
// the civil variant with epoch 16 July 622 (Julian) and leap years 2, 5, 7, 10,
// 13, 16, 18, 21, 24, 26 and 29 of each 30-year cycle. It can differ by a day or
// two from a sighting-based or Umm al-Qura date, which is why the book prints it
// beside the Gregorian date rather than instead of it.
func hijri(t time.Time) (year, month, day int) {
	jdn := julianDay(t.Year(), int(t.Month()), t.Day())
	const epoch = 1948440 // JDN of 1 Muharram 1 AH (civil)
	days := jdn - epoch
	if days < 0 { // before the Hijra: no Hijri date
		return 0, 0, 0
	}
	cycles := days / 10631 // days in 30 years
	rem := days % 10631
	year = 30 * cycles
	for y := 1; y <= 30; y++ {
		n := 354
		if isHijriLeap(y) {
			n = 355
		}
		if rem < n {
			year += y
			break
		}
		rem -= n
	}
	for m := 1; m <= 12; m++ {
		n := 30 - (m+1)%2 // odd months 30 days, even 29
		if m == 12 && isHijriLeap((year-1)%30+1) {
			n = 30
		}
		if rem < n {
			return year, m, rem + 1
		}
		rem -= n
	}
	return year, 12, rem + 1 // not reached for valid input
}

func isHijriLeap(yearInCycle int) bool { return (11*yearInCycle+14)%30 < 11 }

// julianDay is the Julian Day Number of a proleptic Gregorian date.
func julianDay(y, m, d int) int {
	a := (14 - m) / 12
	y = y + 4800 - a
	m = m + 12*a - 3
	return d + (153*m+2)/5 + 365*y + y/4 - y/100 + y/400 - 32045
}

// HijriDate is the tabular Islamic date of t (see hijri), for the pages that
// show it beside the Gregorian date; year 0 before the Hijra.
func HijriDate(t time.Time) (year, month, day int) { return hijri(t) }
