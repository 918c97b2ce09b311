package trigger

// A scanner over JSON text that encoding/json has already found valid:
// it finds where each member or element begins and ends without decoding
// or copying anything, so that reading an object of a million keys, a
// deeply nested value or an array of millions of elements costs no memory
// beyond the text itself. Its input must be valid JSON (checkJSON); on
// anything else it stops early and never reads out of bounds.

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that begins at
// b[i] (a '"').
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the JSON value that begins at b[i].
// Nesting is counted, not recursed into.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default: // a number, true, false or null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
			j++
		}
		return j
	}
}

// members calls fn with the raw key (quoted, escapes left as they are) and
// the raw value of each member of the object obj, in order, until fn
// returns false.
func members(obj []byte, fn func(key, val []byte) bool) {
	i := skipSpace(obj, 0) + 1 // past '{'
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return // '}'
		}
		kEnd := stringEnd(obj, i)
		key := obj[i:kEnd]
		i = skipSpace(obj, kEnd) + 1 // past ':'
		i = skipSpace(obj, i)
		if i >= len(obj) || len(key) < 2 {
			return // not valid JSON
		}
		vEnd := valueEnd(obj, i)
		if !fn(key, obj[i:vEnd]) {
			return
		}
		i = skipSpace(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i++
		}
	}
}

// elements calls fn with each element of the array arr, in order, until
// fn returns false.
func elements(arr []byte, fn func(val []byte) bool) {
	i := skipSpace(arr, 0) + 1 // past '['
	for {
		i = skipSpace(arr, i)
		if i >= len(arr) || arr[i] == ']' {
			return
		}
		vEnd := valueEnd(arr, i)
		if vEnd == i || !fn(arr[i:vEnd]) {
			return
		}
		i = skipSpace(arr, vEnd)
		if i < len(arr) && arr[i] == ',' {
			i++
		}
	}
}
