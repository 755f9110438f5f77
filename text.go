package parley

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text rules that names of every kind share: nicknames (ValidateNick)
// and room names (ValidateRoomName). docs/PROTOCOL.md states them, and
// testdata/names.json holds the cases that the server's and the web
// client's validators must both decide alike.

// zeroWidthJoiner joins emoji into one: 👩 and 💻 into 👩‍💻.
const zeroWidthJoiner = '\u200d'

// printable reports whether s holds only what unicode.IsPrint calls
// printable, and zero-width joiners between two emoji, as in 👩‍💻 or 🏳️‍🌈.
// Anywhere else a joiner is invisible, and would let two names that look
// the same differ.
func printable(s string) bool {
	prev := rune(-1)
	for i, r := range s {
		if r == zeroWidthJoiner {
			next, n := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !emojiBefore(prev) || n == 0 || !unicode.Is(unicode.So, next) {
				return false
			}
		} else if !unicode.IsPrint(r) {
			return false
		}
		prev = r
	}
	return true
}

// emojiBefore reports whether r may end an emoji that a zero-width joiner
// continues: a symbol (👩), a skin tone (🏽) or the emoji presentation
// selector U+FE0F (after 🏳 in 🏳️‍🌈).
func emojiBefore(r rune) bool {
	return unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == '\ufe0f'
}

// checkName reports whether name follows the rules that nicknames and
// display names share: valid UTF-8, at most max characters, no leading,
// trailing or doubled spaces, printable. Its errors have code, and name
// the thing checked, what ("Nickname", "Display name").
func checkName(name string, max int, code, what string) error {
	switch {
	case !utf8.ValidString(name):
		return CodeErrorf(Invalid, code, "%s is not valid UTF-8.", what)
	case utf8.RuneCountInString(name) > max:
		return CodeErrorf(Invalid, code, "%s is longer than %d characters.", what, max)
	case strings.TrimSpace(name) != name:
		return CodeErrorf(Invalid, code, "%s must not start or end with a space.", what)
	case strings.Contains(name, "  "):
		return CodeErrorf(Invalid, code, "%s must not contain two spaces in a row.", what)
	case !printable(name):
		return CodeErrorf(Invalid, code, "%s may contain only printable characters.", what)
	}
	return nil
}
