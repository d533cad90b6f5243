package jsoncodec

import (
	"math/bits"
	"unicode/utf8"
)

// The scanner validates JSON text in one pass and accepts exactly what
// utf8.Valid and encoding/json.Valid together accept: the grammar of RFC 8259,
// any \uXXXX escape (unpaired surrogates included, as encoding/json reads
// them), valid UTF-8 inside strings, and at most maxDepth nested arrays and
// objects. Its functions take the text and an index and return the index just
// past what they read, or -1 when the text is not valid there; reading past
// the end yields a 0 byte, which is never valid where the scanner looks.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// at returns s[i], or 0 past the end.
func at(s string, i int) byte {
	if uint(i) < uint(len(s)) {
		return s[i]
	}
	return 0
}

// valid reports whether s is one JSON value with optional surrounding
// whitespace.
func valid(s string) bool {
	i := skipValue(s, skipSpace(s, 0), 0)
	return i >= 0 && skipSpace(s, i) == len(s)
}

func skipSpace(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return i
}

// plain marks the string bytes that need no further look: printable ASCII
// other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const lsb, msb = 0x0101010101010101, 0x8080808080808080

// special8 flags with their top bit the bytes of the little-endian word x
// that are control bytes, quotes, backslashes or non-ASCII, with the
// word-at-a-time tests of "Bit Twiddling Hacks" (a byte below n:
// (x-n*lsb)&^x&msb; a zero byte: (x-lsb)&^x&msb). A borrow can flag a byte
// after a flagged one, never before, so the lowest flag is exact.
func special8(x uint64) uint64 {
	const ctl, quote, bslash = 0x20 * lsb, '"' * lsb, '\\' * lsb
	return ((x-ctl)&^x | (x^quote-lsb)&^(x^quote) | (x^bslash-lsb)&^(x^bslash) | x) & msb
}

// load64 reads s[i:i+8] as a little-endian word, in one load.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// skipString reads the string that opens at s[i] (a quote). escaped reports
// whether it holds a backslash escape.
func skipString(s string, i int) (end int, escaped bool) {
	i++
	for {
		// Eight bytes at a time up to the first that is not plain; the byte
		// loop then stops at once, or takes the last few bytes of s.
		for i+8 <= len(s) {
			if m := special8(load64(s, i)); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		for i < len(s) && plain[s[i]] {
			i++
		}
		switch c := at(s, i); {
		case c == '"':
			return i + 1, escaped
		case c == '\\':
			escaped = true
			switch at(s, i+1) {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if !isHex(at(s, i+2)) || !isHex(at(s, i+3)) || !isHex(at(s, i+4)) || !isHex(at(s, i+5)) {
					return -1, escaped
				}
				i += 6
			default:
				return -1, escaped
			}
		case c < 0x20: // a control byte, or the end
			return -1, escaped
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return -1, escaped
			}
			i += size
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at s[i].
func skipNumber(s string, i int) int {
	if at(s, i) == '-' {
		i++
	}
	switch c := at(s, i); {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		for i++; isDigit(at(s, i)); i++ {
		}
	default:
		return -1
	}
	if at(s, i) == '.' {
		if i++; !isDigit(at(s, i)) {
			return -1
		}
		for i++; isDigit(at(s, i)); i++ {
		}
	}
	if c := at(s, i); c == 'e' || c == 'E' {
		i++
		if c := at(s, i); c == '+' || c == '-' {
			i++
		}
		if !isDigit(at(s, i)) {
			return -1
		}
		for i++; isDigit(at(s, i)); i++ {
		}
	}
	return i
}

// skipScalar reads a string, number or literal at s[i].
func skipScalar(s string, i int) int {
	switch at(s, i) {
	case '"':
		end, _ := skipString(s, i)
		return end
	case 't':
		return skipLiteral(s, i, "true")
	case 'f':
		return skipLiteral(s, i, "false")
	case 'n':
		return skipLiteral(s, i, "null")
	}
	return skipNumber(s, i)
}

func skipLiteral(s string, i int, lit string) int {
	if len(s)-i >= len(lit) && s[i:i+len(lit)] == lit {
		return i + len(lit)
	}
	return -1
}

// skipKey reads `"key" :` and the whitespace after it, starting at s[i].
func skipKey(s string, i int) int {
	if at(s, i) != '"' {
		return -1
	}
	if i, _ = skipString(s, i); i < 0 {
		return -1
	}
	if i = skipSpace(s, i); at(s, i) != ':' {
		return -1
	}
	return skipSpace(s, i+1)
}

// skipValue reads the value at s[i], which sits inside depth arrays and
// objects. Nested values are walked with a loop and a bit per level rather
// than by recursion, so a deep document costs no stack.
func skipValue(s string, i, depth int) int {
	if c := at(s, i); c != '{' && c != '[' {
		return skipScalar(s, i)
	}
	var objects bitstack // bit n: whether the container n levels in is an object
	n := 0               // containers open in this call
	for {
		if c := at(s, i); c == '{' || c == '[' {
			if depth+n >= maxDepth {
				return -1
			}
			objects.set(n, c == '{')
			n++
			i = skipSpace(s, i+1)
			if c == '{' && at(s, i) != '}' {
				if i = skipKey(s, i); i < 0 {
					return -1
				}
				continue
			}
			if c == '[' && at(s, i) != ']' {
				continue
			}
			i++
			n--
		} else if i = skipScalar(s, i); i < 0 {
			return -1
		}
		// After a value: close containers until a comma opens the next one.
		for {
			if n == 0 {
				return i
			}
			i = skipSpace(s, i)
			obj := objects.get(n - 1)
			c := at(s, i)
			if c == ',' {
				i = skipSpace(s, i+1)
				if obj {
					if i = skipKey(s, i); i < 0 {
						return -1
					}
				}
				break
			}
			if obj && c != '}' || !obj && c != ']' {
				return -1
			}
			i++
			n--
		}
	}
}

// bitstack is a bit per nesting level, in a word for the first 64 levels.
type bitstack struct {
	lo uint64
	hi []uint64
}

func (b *bitstack) set(n int, v bool) {
	w, m := &b.lo, uint64(1)<<(n%64)
	if n >= 64 {
		k := n/64 - 1
		for len(b.hi) <= k {
			b.hi = append(b.hi, 0)
		}
		w = &b.hi[k]
	}
	if v {
		*w |= m
	} else {
		*w &^= m
	}
}

func (b *bitstack) get(n int) bool {
	w := b.lo
	if n >= 64 {
		w = b.hi[n/64-1]
	}
	return w&(uint64(1)<<(n%64)) != 0
}
