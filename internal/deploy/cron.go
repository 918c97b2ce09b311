package deploy

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField is one field of an SCF timer cron expression.
type cronField struct {
	name   string
	lo, hi int
	names  []string // names for lo, lo+1, …, if the field takes names
}

var monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
var weekNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// cronFields are the seven fields of the SCF timer trigger's recommended
// cron syntax, in order, with their documented ranges (SCF "Timer Trigger
// Description": second 0-59, minute 0-59, hour 0-23, day 1-31, month 1-12 or
// JAN-DEC, week 0-6 or SUN-SAT with 0 = Sunday, year 1970-2099).
var cronFields = []cronField{
	{name: "second", lo: 0, hi: 59},
	{name: "minute", lo: 0, hi: 59},
	{name: "hour", lo: 0, hi: 23},
	{name: "day", lo: 1, hi: 31},
	{name: "month", lo: 1, hi: 12, names: monthNames},
	{name: "week", lo: 0, hi: 6, names: weekNames},
	{name: "year", lo: 1970, hi: 2099},
}

// ValidateCron checks an SCF timer cron expression in the seven-field syntax
// "second minute hour day month week year". Each field is a comma list of
// items; an item is *, a value, or a range lo-hi, optionally followed by
// /step (step ≥ 1); values are integers in the field's range or, for month
// and week, their three-letter English names (any case).
func ValidateCron(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("cron %q has %d fields, want 7: second minute hour day month week year", expr, len(fields))
	}
	for i, f := range cronFields {
		if err := f.validate(fields[i]); err != nil {
			return fmt.Errorf("cron %q: %s field %q: %w", expr, f.name, fields[i], err)
		}
	}
	return nil
}

func (f cronField) validate(s string) error {
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			return fmt.Errorf("empty list item")
		}
		base, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || !digits(step) {
				return fmt.Errorf("step %q: want a whole number ≥ 1", step)
			}
		}
		if base == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(base, "-")
		a, err := f.value(lo)
		if err != nil {
			return err
		}
		if !isRange {
			continue
		}
		b, err := f.value(hi)
		if err != nil {
			return err
		}
		if a > b {
			return fmt.Errorf("range %q runs backwards", base)
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.lo + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || !digits(s) {
		if f.names != nil {
			return 0, fmt.Errorf("%q: want %d-%d or %s-%s", s, f.lo, f.hi, f.names[0], f.names[len(f.names)-1])
		}
		return 0, fmt.Errorf("%q: want a whole number from %d to %d", s, f.lo, f.hi)
	}
	if n < f.lo || n > f.hi {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.lo, f.hi)
	}
	return n, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
