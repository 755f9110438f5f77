package parley

// MaxNickLen is the longest nickname, in characters.
const MaxNickLen = 32

// ValidateNick reports whether nick can be used as a nickname: 1 to
// MaxNickLen letters, digits, marks, punctuation or symbols (and joiners
// inside emoji, see printable), with single inner spaces allowed but no
// leading or trailing space.
func ValidateNick(nick string) error {
	if nick == "" {
		return CodeErrorf(Invalid, CodeInvalidNick, "Nickname is required.")
	}
	return checkName(nick, MaxNickLen, CodeInvalidNick, "Nickname")
}
